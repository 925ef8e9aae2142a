import type { Db } from "@/lib/db";

/** Deletes delivery history (and events left without deliveries) older than `days`. */
export async function purgeHistory(db: Db, days: number, now = new Date()) {
  const cutoff = new Date(now.getTime() - days * 24 * 3600 * 1000);
  // Only finished deliveries: one still retrying is not history yet.
  const deliveries = await db.delivery.deleteMany({ where: { createdAt: { lt: cutoff }, nextAttemptAt: null } });
  const events = await db.event.deleteMany({ where: { createdAt: { lt: cutoff }, deliveries: { none: {} } } });
  const idempotency = await db.idempotencyRecord.deleteMany({ where: { createdAt: { lt: new Date(now.getTime() - 24 * 3600 * 1000) } } });
  return { deliveries: deliveries.count, events: events.count, idempotencyKeys: idempotency.count };
}
