-- The claim now reads the queue endpoint by endpoint (lib/webhooks/claim.ts): each endpoint's
-- due deliveries, oldest first, up to what that endpoint may still take. Ordered by
-- nextAttemptAt alone, every claim read past all the queued rows of endpoints that could take
-- nothing more (a hanging endpoint's whole backlog, in flight or waiting) to reach the rows
-- of the others. Still partial: a recorded delivery (nextAttemptAt NULL) adds no entry.
DROP INDEX "Delivery_queued_idx";
CREATE INDEX "Delivery_queue_idx" ON "Delivery"("endpointId", "nextAttemptAt") WHERE "nextAttemptAt" IS NOT NULL;
