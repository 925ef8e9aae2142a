import { after, NextResponse } from "next/server";
import { alertInputSchema, ingestAlert, withIdempotency } from "@/lib/alerts/ingest";
import { fieldErrorsOf } from "@/lib/actions/define-action";
import { apiKeyRoute } from "@/lib/api/api-key-route";
import { AppError } from "@/lib/errors";
import { kickDeliveries } from "@/lib/webhooks/immediate-dispatch";

export const dynamic = "force-dynamic";
const MAX_BODY_BYTES = 64 * 1024;

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
  return Buffer.concat(chunks).toString("utf8");
}

// POST /api/v1/alerts — record an alert and deliver it to every active endpoint of the key's team.
export const POST = apiKeyRoute(async (request, { apiKey }) => {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new AppError("unsupported_media_type", "Send the alert as JSON with 'Content-Type: application/json'.");
  }
  const raw = await readBody(request);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new AppError("bad_request", "The request body is not valid JSON.");
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
  const { response, replayed } = await withIdempotency(apiKey.team.id, idempotencyKey, raw, async (tx) => {
    const accepted = await ingestAlert(tx, apiKey.team, parsed.data);
    return { id: accepted.alertId, eventId: accepted.eventId, deliveriesQueued: accepted.deliveriesQueued, deduplicated: accepted.deduplicated, deliveryIds: accepted.deliveryIds };
  });
  const { deliveryIds, ...body } = response;
  if (!replayed) after(() => kickDeliveries(deliveryIds as string[]));
  return NextResponse.json(body, { status: 202, headers: replayed ? { "idempotent-replayed": "true" } : {} });
});
