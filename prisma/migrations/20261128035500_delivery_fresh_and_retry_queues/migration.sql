-- The claim (lib/webhooks/claim.ts) reads new deliveries endpoint by endpoint and retries in
-- time order. With one (endpointId, nextAttemptAt) index over both, every claim probed every
-- endpoint that only waited for a retry: 5 µs apiece, so 1,000 failing endpoints cost each
-- claim 5 ms. New deliveries that are parked (nextAttemptAt 9999-12-31, an inactive endpoint)
-- are in neither index. Each queued row is in exactly one of them, as it was in the one before.
DROP INDEX "Delivery_queue_idx";
CREATE INDEX "Delivery_fresh_idx" ON "Delivery"("endpointId", "nextAttemptAt")
  WHERE status = 'pending' AND "nextAttemptAt" < '9999-12-31 00:00:00';
CREATE INDEX "Delivery_retry_idx" ON "Delivery"("nextAttemptAt")
  WHERE status <> 'pending' AND "nextAttemptAt" IS NOT NULL;
