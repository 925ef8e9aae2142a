-- A claim now writes only leaseExpiresAt and attempts, which no index covers, so PostgreSQL
-- can update the row in place (HOT) when its page has room. New Delivery pages are filled to
-- half, leaving that room for the claim's new row version. Existing pages are not rewritten.
ALTER TABLE "Delivery" SET (fillfactor = 50);

-- The claim's index holds queued deliveries only. Recording a finished delivery (its
-- nextAttemptAt becomes NULL) then adds no entry to it, and the index stays the size of the
-- queue rather than of the whole history. Prisma 6 cannot express a partial index.
DROP INDEX "Delivery_nextAttemptAt_idx";
CREATE INDEX "Delivery_queued_idx" ON "Delivery"("nextAttemptAt") WHERE "nextAttemptAt" IS NOT NULL;
