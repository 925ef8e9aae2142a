import { afterAnswer } from "@/lib/api/front";
import { ingestBatch } from "@/lib/alerts/batch";
import { apiKeyRoute } from "@/lib/api/api-key-route";
import { batchResponse } from "@/lib/api/batch-response";
import { readJsonBody } from "@/lib/api/json-body";
import { invalidInput, otherMethods } from "@/lib/api/route";
import { alertmanagerItem, alertmanagerPayloadSchema } from "@/lib/integrations/alertmanager";
import { dispatchSoon } from "@/lib/webhooks/delivery/immediate-dispatch";

export const dynamic = "force-dynamic";
const MAX_BODY_BYTES = 8 * 1024 * 1024;

// POST /api/v1/integrations/alertmanager — Prometheus Alertmanager's webhook_configs target
// (http_config.authorization: Bearer <API key>); each alert of the group answered on its own.
export const POST = apiKeyRoute(async (request, { apiKey, limit }) => {
  const { json } = await readJsonBody(request, MAX_BODY_BYTES, "Alertmanager's payload");
  const parsed = alertmanagerPayloadSchema.safeParse(json);
  if (!parsed.success) throw invalidInput(parsed.error, ". This route takes Alertmanager's webhook payload (version 4).");
  const items = parsed.data.alerts.map((alert, index) => alertmanagerItem(apiKey.team.id, alert, index));
  // Alertmanager's own retries carry no Idempotency-Key: each alert is deduplicated by its fingerprint instead.
  const batch = await ingestBatch(apiKey.team, items, { limit, idempotencyKey: null, source: "alertmanager" });
  if (batch.deliveryIds.length > 0) afterAnswer(() => dispatchSoon(batch.deliveryIds));
  return batchResponse(batch);
}, { countsRequest: true, ingest: "alertmanager" });

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods("POST");
