// The API contract, generated from the zod schemas the code uses (alert input, envelope),
// so it cannot drift from them. Served at GET /api/v1/openapi.json.
import { z } from "zod";
import { MAX_BATCH_ITEMS } from "@/lib/alerts/batch-limits";
import { alertInputSchema } from "@/lib/alerts/ingest";
import { relayAnswerSchema, relayHelloSchema, streamMessageSchema } from "@/lib/relay/protocol";
import { API_VERSION, envelopeSchema, eventTypes } from "@/lib/webhooks/delivery/envelope";
import { NEXT_SIGNATURE_HEADER, SIGNATURE_HEADER } from "@/lib/webhooks/delivery/sign";
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

const refusalSchema = z.object({ code: z.string(), message: z.string(), fields: z.record(z.string(), z.array(z.string())).optional() });
export const batchResultSchema = z.object({
  accepted: z.number().int(),
  deduplicated: z.number().int(),
  ignored: z.number().int().describe("Alertmanager only: a resolve for a fingerprint with no open alert."),
  refused: z.number().int(),
  errors: z.boolean().describe("True when any item was refused."),
  results: z.array(
    z.discriminatedUnion("status", [
      alertAcceptedSchema.omit({ deduplicated: true }).extend({ index: z.number().int(), status: z.enum(["accepted", "deduplicated"]), replayed: z.boolean() }),
      z.object({ index: z.number().int(), status: z.literal("refused"), error: refusalSchema }),
      z.object({ index: z.number().int(), status: z.literal("ignored"), reason: z.string() }),
    ]),
  ).describe("One per item, in the order sent."),
});

const batchResponses = (what: string) => ({
  "200": { description: `Every ${what} answered on its own (results); refused items name their field (alerts.<i>.<field>)`, content: json(batchResultSchema) },
  "400": error("The body is not valid JSON, or not UTF-8 text"),
  "401": error("Missing or unknown API key"),
  "403": error("The API key was revoked, or may not send alerts"),
  "413": error("The body is larger than 8 MB"),
  "415": error("Not sent as application/json, or sent compressed (Content-Encoding)"),
  "422": error(`The call is malformed (not the expected object, or more than ${MAX_BATCH_ITEMS} alerts); fields names it`),
  "503": { description: "Some items were refused for a while only (rate limit, overload, the database away): retry after Retry-After. The body holds every item's result; items done are not done twice on a retry.", content: json(batchResultSchema) },
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
            "403": error("The API key was revoked, or may not send alerts"),
            "413": error("The body is larger than 64 KB"),
            "415": error("Not sent as application/json, or sent compressed (Content-Encoding)"),
            "422": error("A field is invalid; fields names it"),
            "429": error("Over the per-key limit; see Retry-After"),
            "503": error("The database is unavailable, or this server is taking in more than it can store: nothing was stored; retry after Retry-After"),
          },
        },
      },
      "/api/v1/alerts/batch": {
        post: {
          operationId: "createAlerts",
          summary: `Record up to ${MAX_BATCH_ITEMS} alerts in one call, each answered on its own`,
          parameters: [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              schema: { type: "string", minLength: 1, maxLength: 255 },
              description: "Makes each item idempotent (under <key>#<index> and its own JSON): a retried call answers the items done before with their first answers.",
            },
          ],
          requestBody: { required: true, content: json(z.object({ alerts: z.array(alertInputSchema).min(1).max(MAX_BATCH_ITEMS) }), "input") },
          responses: batchResponses("alert"),
        },
      },
      "/api/v1/integrations/alertmanager": {
        post: {
          operationId: "alertmanagerWebhook",
          summary: "Prometheus Alertmanager's webhook (payload version 4): each alert of the group becomes one of ours",
          description: "Set as a webhook_configs url, with the API key in http_config.authorization (type Bearer). firing → triggered, resolved → resolved, fingerprint → dedupKey; see docs/api.md for the whole mapping.",
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["status", "alerts"],
                  properties: {
                    version: { type: "string" },
                    status: { enum: ["firing", "resolved"] },
                    groupKey: { type: "string" },
                    alerts: {
                      type: "array",
                      maxItems: MAX_BATCH_ITEMS,
                      items: {
                        type: "object",
                        required: ["status", "labels", "fingerprint"],
                        properties: {
                          status: { enum: ["firing", "resolved"] },
                          labels: { type: "object", additionalProperties: { type: "string" } },
                          annotations: { type: "object", additionalProperties: { type: "string" } },
                          startsAt: { type: "string" },
                          endsAt: { type: "string" },
                          fingerprint: { type: "string" },
                          generatorURL: { type: "string" },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          responses: batchResponses("alert of the group"),
        },
      },
      "/api/v1/relays/listen": {
        post: {
          operationId: "listenRelay",
          summary: "mon1tor listen: open the team's CLI relay of this name and hold its stream of deliveries",
          description:
            "Needs a key with the endpoints:manage permission. The answer is newline-delimited JSON held open: a ready message (the relay and its signing secret), then a request message per attempt, and a ping every 15 s. Report each request's outcome to /api/v1/relays/{relayId}/responses.",
          requestBody: { required: true, content: json(relayHelloSchema, "input") },
          responses: {
            "200": { description: "The stream", content: { "application/x-ndjson": { schema: z.toJSONSchema(streamMessageSchema) } } },
            "401": error("Missing or unknown API key"),
            "403": error("The API key was revoked, or may not manage endpoints"),
            "409": error("A mon1tor listen of this name is connected already, or the team has its endpoint limit"),
            "422": error("A field is invalid; fields names it"),
            "429": error("Over the connection limit (30 a minute per key); see Retry-After"),
          },
        },
      },
      "/api/v1/relays/{relayId}/responses": {
        post: {
          operationId: "answerRelayRequest",
          summary: "mon1tor listen reports what the local receiver answered to one relayed request",
          parameters: [{ name: "relayId", in: "path", required: true, schema: { type: "string" } }],
          requestBody: { required: true, content: json(relayAnswerSchema, "input") },
          responses: {
            "200": { description: "Recorded as the attempt's outcome" },
            "403": error("The API key was revoked, or may not manage endpoints"),
            "404": error("No such request waits for an answer: unknown, answered already, or timed out"),
            "422": error("A field is invalid; fields names it"),
            "429": error("Over the per-key limit; see Retry-After"),
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
