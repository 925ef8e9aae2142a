import { NextResponse } from "next/server";
import { afterAnswer } from "@/lib/api/front";
import { batchSchema, ingestBatch, parseBatchItem } from "@/lib/alerts/batch";
import { apiKeyRoute } from "@/lib/api/api-key-route";
import { idempotencyKeyOf } from "@/lib/api/idempotency-key";
import { readJsonBody } from "@/lib/api/json-body";
import { batchResponse } from "@/lib/api/batch-response";
import { invalidInput, otherMethods } from "@/lib/api/route";
import { dispatchSoon } from "@/lib/webhooks/delivery/immediate-dispatch";

export const dynamic = "force-dynamic";
const MAX_BODY_BYTES = 8 * 1024 * 1024;

// POST /api/v1/alerts/batch — up to 1,000 alerts in one call, each answered on its own.
export const POST = apiKeyRoute(async (request, { apiKey, limit }) => {
  const { json } = await readJsonBody(request, MAX_BODY_BYTES, "the batch");
  const parsed = batchSchema.safeParse(json);
  if (!parsed.success) throw invalidInput(parsed.error, `. Send {"alerts": [ … ]}, 1 to 1,000 alerts as the single alert API takes them.`);
  const batch = await ingestBatch(apiKey.team, parsed.data.alerts.map(parseBatchItem), { limit, idempotencyKey: idempotencyKeyOf(request), source: "batch" });
  if (batch.deliveryIds.length > 0) afterAnswer(() => dispatchSoon(batch.deliveryIds));
  return batchResponse(batch);
}, { countsRequest: true, ingest: "batch" });

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods("POST");
