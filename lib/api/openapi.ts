// The API contract, generated from the zod schemas the code uses (alert input, envelope),
// so it cannot drift from them. Served at GET /api/v1/openapi.json.
import { z } from "zod";
import { alertInputSchema } from "@/lib/alerts/ingest";
import { API_VERSION, envelopeSchema, eventTypes } from "@/lib/webhooks/envelope";
import { NEXT_SIGNATURE_HEADER, SIGNATURE_HEADER } from "@/lib/webhooks/sign";
import pkg from "@/package.json" with { type: "json" };

export const alertAcceptedSchema = z.object({
  id: z.string().describe("The alert's id (the open alert's, when deduplicated)."),
  eventId: z.string().nullable().describe("The event queued for delivery, or null when deduplicated."),
  deliveriesQueued: z.number().int().min(0),
  deduplicated: z.boolean(),
});

export const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fields: z.record(z.string(), z.array(z.string())).optional(),
  }),
});

const json = (schema: z.ZodType, io: "input" | "output" = "output") => ({ "application/json": { schema: z.toJSONSchema(schema, { io, unrepresentable: "any" }) } });
const error = (description: string) => ({ description, content: json(errorSchema) });

const deliveryHeaders = [
  [SIGNATURE_HEADER, "Lower-case hex HMAC-SHA256 of the raw body, keyed with the endpoint's secret string (whsec_…) as UTF-8. During a secret roll's overlap: the old secret."],
  [NEXT_SIGNATURE_HEADER, "Only during a secret roll's overlap: the same HMAC with the new secret."],
  ["webhook-id", "The delivery id, stable across retries: deduplicate on it."],
  ["webhook-timestamp", "Unix seconds of this attempt."],
  ["webhook-signature", "Standard Webhooks: space-separated v1,<base64 HMAC> of id.timestamp.body, one per valid secret."],
] as const;

export function openApiDocument(serverUrl: string) {
  return {
    openapi: "3.1.0",
    info: {
      title: "mon1tor webhooks",
      version: pkg.version,
      description: `Send alerts to mon1tor; mon1tor delivers them, signed, to each validated webhook endpoint of your team. Payload apiVersion ${API_VERSION}.`,
    },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "A team API key (mk_…), created under API keys." } },
    },
    security: [{ apiKey: [] }],
    paths: {
      "/api/v1/alerts": {
        post: {
          operationId: "createAlert",
          summary: "Record an alert and deliver it to every matching active endpoint",
          parameters: [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              schema: { type: "string", minLength: 1, maxLength: 255 },
              description: "A retried request with the same key gets the first answer (header idempotent-replayed: true).",
            },
          ],
          requestBody: { required: true, content: json(alertInputSchema, "input") },
          responses: {
            "202": { description: "Accepted and queued for delivery", content: json(alertAcceptedSchema) },
            "400": error("The body is not valid JSON, or not UTF-8 text"),
            "401": error("Missing or unknown API key"),
            "403": error("The API key was revoked"),
            "413": error("The body is larger than 64 KB"),
            "415": error("Not sent as application/json, or sent compressed (Content-Encoding)"),
            "422": error("A field is invalid; fields names it"),
            "429": error("Over the per-key limit; see Retry-After"),
            "503": error("The database is unavailable; retry after Retry-After"),
          },
        },
      },
    },
    webhooks: Object.fromEntries(
      eventTypes.map((type) => [
        type,
        {
          post: {
            summary: `mon1tor POSTs a ${type} event to your endpoint`,
            parameters: deliveryHeaders.map(([name, description]) => ({ name, in: "header", required: name !== NEXT_SIGNATURE_HEADER, schema: { type: "string" }, description })),
            requestBody: { required: true, content: json(envelopeSchema) },
            responses: { "2XX": { description: "Delivered. Anything else (or no answer within the timeout) is retried on the schedule." } },
          },
        },
      ]),
    ),
  };
}
