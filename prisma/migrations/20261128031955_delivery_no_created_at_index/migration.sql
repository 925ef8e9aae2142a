-- Every index of Delivery gets an entry for each recorded result (that update changes
-- nextAttemptAt, so it cannot be in place). This one served retention alone, which now reads
-- the (endpointId, createdAt) index instead.
DROP INDEX "Delivery_createdAt_idx";
