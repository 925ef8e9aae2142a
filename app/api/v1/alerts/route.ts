import { after, NextResponse } from "next/server";
import { fastIngest, fastPathApplies } from "@/lib/alerts/fast-ingest";
import { alertInputSchema, ingestAlert, requestHash, storedResponse, withIdempotency } from "@/lib/alerts/ingest";
import { fieldErrorsOf } from "@/lib/actions/define-action";
import { API_KEY_LIMIT_NAME, apiKeyRoute } from "@/lib/api/api-key-route";
import { otherMethods } from "@/lib/api/route";
import { AppError } from "@/lib/errors";
import { enforce, rateLimited } from "@/lib/rate-limit";
import { dispatchSoon } from "@/lib/webhooks/immediate-dispatch";

export const dynamic = "force-dynamic";
const MAX_BODY_BYTES = 64 * 1024;
const utf8 = new TextDecoder("utf-8", { fatal: true });

async function readBody(request: Request): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  const tooLarge = () => new AppError("payload_too_large", `The request body is larger than ${MAX_BODY_BYTES / 1024} KB.`);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const reader = request.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  try {
    // A byte-order mark is dropped; bytes that are not UTF-8 are refused rather than stored as U+FFFD.
    return utf8.decode(Buffer.concat(chunks));
  } catch {
    throw new AppError("bad_request", "The request body is not valid UTF-8 text.");
  }
}

// POST /api/v1/alerts — record an alert and deliver it to every active endpoint of the key's team.
export const POST = apiKeyRoute(async (request, { apiKey, limit }) => {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new AppError("unsupported_media_type", "Send the alert as JSON with 'Content-Type: application/json'.");
  }
  const encoding = request.headers.get("content-encoding");
  if (encoding !== null && !/^\s*identity\s*$/i.test(encoding)) {
    throw new AppError("unsupported_media_type", `Content-Encoding '${encoding.slice(0, 40)}' is not supported: send the alert uncompressed.`);
  }
  const raw = await readBody(request);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new AppError("bad_request", "The request body is not valid JSON.");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new AppError("validation", `The request body must be a JSON object, such as {"title": "Disk full"}.`, { body: ["must be a JSON object"] });
  }
  const parsed = alertInputSchema.safeParse(json);
  if (!parsed.success) {
    const fields = fieldErrorsOf(parsed.error);
    const [field, messages] = Object.entries(fields)[0]!;
    throw new AppError("validation", `Invalid field '${field}': ${messages[0]}`, fields);
  }
  const idempotencyKey = request.headers.get("idempotency-key");
  if (idempotencyKey !== null && (idempotencyKey.length === 0 || idempotencyKey.length > 255)) {
    throw new AppError("validation", "The Idempotency-Key header must be 1 to 255 characters.", { "Idempotency-Key": ["must be 1 to 255 characters"] });
  }
  const idempotency = idempotencyKey === null ? null : { key: idempotencyKey, hash: requestHash(raw) };
  const respond = (body: Accepted, replayed: boolean) =>
    NextResponse.json(body, { status: 202, headers: replayed ? { "idempotent-replayed": "true" } : {} });

  // A new alert (most of a storm): one statement on the pg pool (lib/alerts/fast-ingest.ts).
  if (fastPathApplies(parsed.data, idempotencyKey)) {
    const result = await fastIngest(apiKey.team, parsed.data, { limit, idempotency });
    switch (result.kind) {
      case "rate_limited":
        throw rateLimited(limit, API_KEY_LIMIT_NAME, result.state);
      case "replay":
        return respond(withoutIds(await storedResponse<Accepted>(apiKey.team.id, idempotency!.key, idempotency!.hash)), true);
      case "deduplicated":
        return respond({ id: result.alertId, eventId: null, deliveriesQueued: 0, deduplicated: true }, false);
      case "accepted":
        after(() => dispatchSoon(result.deliveryIds));
        return respond({ id: result.alertId, eventId: result.eventId, deliveriesQueued: result.deliveryIds.length, deduplicated: false }, false);
    }
  }
  // Answers that depend on an existing alert: read it in a transaction (lib/alerts/ingest.ts).
  await enforce(limit, API_KEY_LIMIT_NAME);
  const { response, replayed } = await withIdempotency(apiKey.team.id, idempotencyKey, raw, async (tx) => {
    const accepted = await ingestAlert(tx, apiKey.team, parsed.data);
    return { id: accepted.alertId, eventId: accepted.eventId, deliveriesQueued: accepted.deliveriesQueued, deduplicated: accepted.deduplicated, deliveryIds: accepted.deliveryIds };
  });
  if (!replayed) after(() => dispatchSoon(response.deliveryIds));
  return respond(withoutIds(response), replayed);
}, { countsRequest: true });

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods("POST");

type Accepted = { id: string; eventId: string | null; deliveriesQueued: number; deduplicated: boolean };
const withoutIds = ({ id, eventId, deliveriesQueued, deduplicated }: Accepted & { deliveryIds?: unknown }): Accepted => ({ id, eventId, deliveriesQueued, deduplicated });
