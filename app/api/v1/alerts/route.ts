import { afterAnswer, jsonAnswer } from "@/lib/api/front";
import { acceptAlert } from "@/lib/alerts/accept";
import { alertInputSchema, requestHash } from "@/lib/alerts/ingest";
import { API_KEY_LIMIT_NAME, apiKeyRoute } from "@/lib/api/api-key-route";
import { readJsonBody } from "@/lib/api/json-body";
import { idempotencyKeyOf } from "@/lib/api/idempotency-key";
import { invalidInput, otherMethods } from "@/lib/api/route";
import { AppError } from "@/lib/errors";
import { countAccepted } from "@/lib/metrics/metrics";
import { rateLimited } from "@/lib/rate-limit";
import { dispatchSoon } from "@/lib/webhooks/delivery/immediate-dispatch";

export const dynamic = "force-dynamic";
const MAX_BODY_BYTES = 64 * 1024;

// POST /api/v1/alerts — record an alert and deliver it to every active endpoint of the key's team.
export const POST = apiKeyRoute(async (request, { apiKey, limit }) => {
  const { raw, json } = await readJsonBody(request, MAX_BODY_BYTES, "the alert");
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new AppError("validation", `The request body must be a JSON object, such as {"title": "Disk full"}.`, { body: ["must be a JSON object"] });
  }
  const parsed = alertInputSchema.safeParse(json);
  if (!parsed.success) throw invalidInput(parsed.error);
  const key = idempotencyKeyOf(request);
  const outcome = await acceptAlert(apiKey.team, parsed.data, { limit, idempotency: key === null ? null : { key, hash: requestHash(raw) } });
  if (outcome.kind === "rate_limited") throw rateLimited(limit, API_KEY_LIMIT_NAME, outcome.state);
  countAccepted("api", apiKey.team.id, [{ status: "accepted", replayed: outcome.replayed }]);
  if (outcome.deliveryIds.length > 0) afterAnswer(() => dispatchSoon(outcome.deliveryIds));
  return jsonAnswer(outcome.response, { status: 202, headers: outcome.replayed ? { "idempotent-replayed": "true" } : {} });
}, { countsRequest: true, ingest: "api" });

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods("POST");
