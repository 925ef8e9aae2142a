// Delivery history is partitioned by day (prisma/migrations/20261203220000_partitioned_history):
// Event and Delivery by "createdAt", DeliveryAttempt by "startedAt". Retention drops whole days,
// never deleting row by row, except in the one partition per table that held the history from
// before the migration ("<table>_legacy"), until all of it is older than the window.
//
// The queue is not a table of its own: a delivery still due (nextAttemptAt set) lives in its day's
// partition, read through the claim's partial indexes, which hold only queued rows. What keeps it
// from being dropped with its day is the rule below: no day is dropped at or after the day of the
// oldest queued delivery. A delivery's event is in the same day (a replay is dated at its event,
// lib/webhooks/delivery/backlog.ts), so the event a retry sends is never dropped before it.
import type pg from "pg";
import { dbNow, inTransaction, namedStatement } from "@/lib/db";
import { quoteIdentifier } from "@/lib/text";

/** Dropped in this order: attempts, then deliveries, then their events. */
const HISTORY_TABLES = ["DeliveryAttempt", "Delivery", "Event"] as const;

/**
 * The first and last day (UTC, as 'YYYY-MM-DD') that hold a queued delivery, or null when nothing
 * is queued: one probe at each end of Delivery_queued_idx, which holds only queued rows, per day
 * partition. Retention keeps the first and every later day; the claim reads those days alone
 * (lib/webhooks/delivery/claim.ts), reusing a read for up to a second. A delivery queued after a
 * read, on a day outside it, is committed with a NOTIFY that starts another claim, and is taken by
 * the first claim to read the days afresh. `retries`: whether any queued delivery waits for a
 * retry (one probe of Delivery_retry_idx), without which the claim leaves out its retry scan.
 *
 * `client` is in a transaction: each end is read off the index in order (ORDER BY ... LIMIT 1 with
 * sorting off), never by min() and max(). Planned on statistics taken while a table of finished
 * deliveries had none queued, as after any quiet hour, those aggregated every queued row instead:
 * 25 ms a read for 10,000 queued (lib/webhooks/delivery/plans.test.ts), 35 to 42 ms once a second
 * through a storm's backlog in the bench's batch phase.
 */
// "maxAttempts" >= 0: the index's own predicate (the migration says why), true of every row.
const queuedEnd = (direction: "ASC" | "DESC") =>
  `to_char((SELECT "createdAt"::date FROM "Delivery" WHERE "nextAttemptAt" IS NOT NULL AND "maxAttempts" >= 0
            ORDER BY "createdAt"::date ${direction} LIMIT 1), 'YYYY-MM-DD')`;
const QUEUED_DAYS_SQL = `SELECT ${queuedEnd("ASC")} AS first, ${queuedEnd("DESC")} AS last,
            -- The first entry of Delivery_retry_idx. (As EXISTS, planned on statistics that said
            -- the table was empty, it read every queued row: lib/webhooks/delivery/plans.test.ts.)
            (SELECT r."nextAttemptAt" FROM "Delivery" r WHERE r.status <> 'pending' AND r."nextAttemptAt" IS NOT NULL
             ORDER BY r."nextAttemptAt" LIMIT 1) IS NOT NULL AS retries`;

export async function queuedDays(client: pg.PoolClient): Promise<{ first: string; last: string; retries: boolean } | null> {
  await client.query("SET LOCAL enable_sort = off");
  // Named: with the event queue on (event-queue.ts) most claims find no queued row and read these
  // again each time; planning them across every day partition was 0.6 ms of PostgreSQL's CPU a
  // claim. Without parameters, its one plan is made for index scans in order either way.
  const result = await client.query<{ first: string | null; last: string | null; retries: boolean }>(
    namedStatement(QUEUED_DAYS_SQL, []),
  );
  const { first, last, retries } = result.rows[0]!;
  return first && last ? { first, last, retries } : null;
}

/** Days made ahead: an insert always finds its partition, even a worker's clock a little ahead. */
export const PARTITION_DAYS_AHEAD = 4;

/**
 * A detach or drop waits at most this long for its lock, then gives up until the next round: a
 * lock it waits for holds up every query queued behind it (the drop locks WebhookEndpoint for a
 * moment, to remove the foreign key of the partition it drops).
 */
const LOCK_TIMEOUT_MS = 50;

/** Makes the history tables' day partitions from yesterday to PARTITION_DAYS_AHEAD days ahead (UTC). Returns how many it made. */
export async function ensureHistoryPartitions(pool: pg.Pool, now: Date | null = null): Promise<number> {
  const result = await pool.query<{ made: number }>(
    `SELECT mon1tor_history_partitions(${dbNow(1)}, $2) AS made`,
    [now?.toISOString() ?? null, PARTITION_DAYS_AHEAD],
  );
  return result.rows[0]!.made;
}

export type HistoryPartition = { table: string; name: string; from: Date | null; to: Date; detachPending: boolean };

/** Each history table's partitions, oldest first, with their bounds (UTC). */
export async function historyPartitions(pool: pg.Pool): Promise<HistoryPartition[]> {
  const result = await pool.query<{ table: string; name: string; from: string | null; to: string; detachPending: boolean }>(
    `SELECT p.relname AS table, c.relname AS name, i.inhdetachpending AS "detachPending",
            substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \\(''([^'']+)''\\)') AS from,
            substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \\(''([^'']+)''\\)') AS to
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname = ANY($1::text[]) AND p.relnamespace = 'public'::regnamespace
     ORDER BY 4 NULLS FIRST`,
    [HISTORY_TABLES],
  );
  const utc = (text: string) => new Date(`${text.replace(" ", "T")}Z`);
  return result.rows.map((row) => ({ ...row, from: row.from ? utc(row.from) : null, to: utc(row.to) }));
}

/** The partition holding the history from before partitioning (Delivery's), while it is there. */
export const legacyPartition = (partitions: HistoryPartition[]) => partitions.find((p) => p.table === "Delivery" && p.from === null);

/** How long each step of dropping a partition took (ms). */
export type DroppedPartition = { name: string; detachMs: number; dropMs: number };

/** Detaches (without blocking inserts and reads) and drops one partition. Null when a lock was not had in time. */
async function dropPartition(pool: pg.Pool, partition: HistoryPartition): Promise<DroppedPartition | null> {
  const client = await pool.connect();
  try {
    await client.query(`SET lock_timeout = ${LOCK_TIMEOUT_MS}`);
    // CONCURRENTLY: two transactions, each taking only SHARE UPDATE EXCLUSIVE on the parent.
    // Interrupted after the first, the partition stays "detach pending" and is finished here.
    const started = performance.now();
    await client.query(
      `ALTER TABLE ${quoteIdentifier(partition.table)} DETACH PARTITION ${quoteIdentifier(partition.name)} ${partition.detachPending ? "FINALIZE" : "CONCURRENTLY"}`,
    );
    const detached = performance.now();
    await client.query(`DROP TABLE ${quoteIdentifier(partition.name)}`);
    return { name: partition.name, detachMs: Math.round(detached - started), dropMs: Math.round(performance.now() - detached) };
  } catch (error) {
    if ((error as { code?: string }).code === "55P03") return null; // lock_not_available: next round
    throw error;
  } finally {
    await client.query("RESET lock_timeout").catch(() => {});
    client.release();
  }
}

/**
 * Drops the days wholly older than `days` days, keeps what is still queued, and deletes the
 * pre-partitioning history row by row until its partition can go too. Also ensures the days ahead.
 */
export async function purgeHistory(pool: pg.Pool, days: number, now = new Date()) {
  const partitionsMade = await ensureHistoryPartitions(pool, now);
  const cutoff = new Date(now.getTime() - days * 24 * 3600 * 1000);
  const dayAgo = new Date(now.getTime() - 24 * 3600 * 1000).toISOString();
  const partitions = await historyPartitions(pool);
  const expired = partitions.filter((p) => p.to <= cutoff || p.detachPending);

  const dropped: DroppedPartition[] = [];
  let daysKept = 0;
  if (expired.length > 0) {
    // The oldest queued delivery's day and everything after it stays; so does the oldest event
    // still in the event queue (lib/webhooks/delivery/event-queue.ts), whose deliveries are written on its day.
    const first = (await inTransaction(pool, queuedDays))?.first;
    const queuedEvent = await pool.query<{ day: string | null }>(
      `SELECT to_char(min("eventCreatedAt")::date, 'YYYY-MM-DD') AS day FROM "EventQueue"`,
    );
    const firstDay = [first, queuedEvent.rows[0]!.day].filter((day): day is string => Boolean(day)).sort()[0];
    const keepFrom = firstDay ? new Date(`${firstDay}T00:00:00Z`) : null;
    for (const table of HISTORY_TABLES) {
      for (const partition of expired.filter((p) => p.table === table)) {
        if (!partition.detachPending && keepFrom && partition.to > keepFrom) {
          daysKept += 1;
          continue;
        }
        const done = await dropPartition(pool, partition);
        if (done) dropped.push(done);
      }
    }
  }

  // The history from before partitioning, row by row, in its own partition only: finished
  // deliveries older than the window (their attempts go with them, by the cascade trigger), then
  // the events left without deliveries.
  const pre = legacyPartition(partitions);
  const legacy = pre && pre.to > cutoff ? pre : undefined;
  let deliveries = 0;
  let events = 0;
  if (legacy) {
    const before = new Date(Math.min(cutoff.getTime(), legacy.to.getTime())).toISOString();
    deliveries =
      (
        await pool.query(
          `DELETE FROM "Delivery" d WHERE d."createdAt" < ($1::timestamptz AT TIME ZONE 'UTC') AND d."nextAttemptAt" IS NULL`,
          [before],
        )
      ).rowCount ?? 0;
    events =
      (
        await pool.query(
          `DELETE FROM "Event" ev WHERE ev."createdAt" < ($1::timestamptz AT TIME ZONE 'UTC')
             AND NOT EXISTS (SELECT 1 FROM "Delivery" d WHERE d."eventId" = ev.id)`,
          [before],
        )
      ).rowCount ?? 0;
  }
  const idempotency = await pool.query(`DELETE FROM "IdempotencyRecord" WHERE "createdAt" < ($1::timestamptz AT TIME ZONE 'UTC')`, [dayAgo]);
  return { partitionsMade, daysDropped: dropped.length, dropped, daysKept, deliveries, events, idempotencyKeys: idempotency.rowCount ?? 0 };
}
