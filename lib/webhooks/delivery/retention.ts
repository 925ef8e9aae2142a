import type pg from "pg";

/** Deletes delivery history (and events left without deliveries) older than `days`. */
export async function purgeHistory(pool: pg.Pool, days: number, now = new Date()) {
  const cutoff = new Date(now.getTime() - days * 24 * 3600 * 1000).toISOString();
  const dayAgo = new Date(now.getTime() - 24 * 3600 * 1000).toISOString();
  // Only finished deliveries: one still retrying is not history yet. Endpoint by endpoint, off
  // the (endpointId, createdAt) index the delivery log reads: Delivery has no index of
  // createdAt alone, which every recorded result would pay an entry for.
  const deliveries = await pool.query(
    `DELETE FROM "Delivery" d USING "WebhookEndpoint" e
     WHERE d."endpointId" = e.id AND d."createdAt" < ($1::timestamptz AT TIME ZONE 'UTC') AND d."nextAttemptAt" IS NULL`,
    [cutoff],
  );
  const events = await pool.query(
    `DELETE FROM "Event" ev WHERE ev."createdAt" < ($1::timestamptz AT TIME ZONE 'UTC')
       AND NOT EXISTS (SELECT 1 FROM "Delivery" d WHERE d."eventId" = ev.id)`,
    [cutoff],
  );
  const idempotency = await pool.query(`DELETE FROM "IdempotencyRecord" WHERE "createdAt" < ($1::timestamptz AT TIME ZONE 'UTC')`, [dayAgo]);
  return { deliveries: deliveries.rowCount ?? 0, events: events.rowCount ?? 0, idempotencyKeys: idempotency.rowCount ?? 0 };
}
