// Writing attempt outcomes: attempt rows, delivery states, endpoint counters and the
// failure policy, one transaction per batch.
//
// Poison-proof: whatever a receiver sends back is stored as text PostgreSQL can hold. If a
// batch still fails for a reason other than the database being away, it is written again
// row by row, so one bad row cannot fail its neighbours; a row that cannot be written even
// alone is quarantined (the delivery is marked failed with the reason) and never re-sent
// silently. Results are only written where `attempts` still matches the claim, so a late
// writer can never overwrite a newer attempt.
import type pg from "pg";
import { isDatabaseUnavailable } from "@/lib/errors";
import { child, metrics, withTeam, type DeliveryOutcome } from "@/lib/metrics/metrics";
import type { Claimed } from "@/lib/webhooks/delivery/claim";
import { dbNow, inTransaction, namedStatement } from "@/lib/db";
import type { Notice } from "@/lib/notifications/write";
import { applyFailurePolicy, type FailurePolicy } from "@/lib/webhooks/delivery/failure";
import type { OutboundResult } from "@/lib/webhooks/delivery/outbound";
import { recordHealth } from "@/lib/webhooks/delivery/health-hours";
import { storableText } from "@/lib/text";
import { noteCertificates } from "@/lib/webhooks/endpoints/certificates";
import { MAX_ATTEMPTS as MAX_SCHEDULE, retryDelayMs } from "@/lib/webhooks/delivery/retry";
import { finishDeliverySql, newerStateSql } from "@/lib/webhooks/delivery/finish";
import {
  DELETE_SQL,
  fromQueue as sentFromQueue,
  queuedRowOf,
  writeAsRows,
  writeDelivered,
  WRITE_QUEUED_SQL,
  writeQueuedParams,
  type FromQueue,
} from "@/lib/webhooks/delivery/event-queue";

export type Outcome = { delivery: Claimed; startedAt: Date; result: OutboundResult };

export type RecordOptions = { policy: FailurePolicy; now: Date | null; random: () => number };

function rowsOf(outcomes: Outcome[], random: () => number) {
  return outcomes.map(({ delivery, startedAt, result }) => {
    const gone = result.statusCode === 410;
    // Attempts left in this schedule decide the next delay; a redelivery's schedule is one attempt.
    const scheduleAttempt = delivery.attempts - delivery.maxAttempts + MAX_SCHEDULE;
    const delay = result.ok || gone || delivery.attempts >= delivery.maxAttempts ? null : retryDelayMs(scheduleAttempt, result, random);
    return {
      delivery,
      startedAt,
      result,
      gone,
      delay,
      status: result.ok ? "delivered" : delay === null ? "failed" : "retrying",
      reason: storableText(result.reason),
      excerpt: storableText(result.responseExcerpt),
    };
  });
}

/**
 * A failed older state whose alert has a newer one queued for the endpoint is superseded rather
 * than retried ("Skip outdated alert states"). Left out of a batch with no retrying outcome (most
 * of them): planning it cost a third of the batch's planning.
 */
const outdatedSql = `WITH outdated AS (
         SELECT d.id, ${newerStateSql("d")} AS newer
         FROM "Delivery" d
         WHERE d.id = ANY($9::text[]) AND d."createdAt" BETWEEN $10::timestamp AND $11::timestamp AND d."alertId" IS NOT NULL
       )`;

/**
 * One batch in one transaction. Throws whatever PostgreSQL said. Its two statements on Delivery
 * and DeliveryAttempt are planned on every call (lib/db.ts): with one generic plan, which cannot
 * know how long the id list is, PostgreSQL matched the list to the rows found by a nested loop's
 * filter, 2.3 million comparisons and 240 ms for a batch of 1,500.
 */
export async function recordBatch(pool: pg.Pool, outcomes: Outcome[], options: RecordOptions) {
  if (outcomes.length === 0) return;
  const rows = rowsOf(outcomes, options.random);
  const all = <T,>(pick: (row: (typeof rows)[number]) => T) => rows.map(pick);
  const now = options.now?.toISOString() ?? null;
  // The batch's first and last "createdAt": PostgreSQL plans each statement for the day partitions
  // between them alone (usually one), not for every day's. Planning across all of them cost
  // 1.9 ms a batch. (Claimed.createdAt has one fixed format, so they compare as text.)
  const created = all((r) => r.delivery.createdAt).sort();
  const days = [created[0]!, created.at(-1)!];
  // Counted once the transaction has committed: a batch rolled back and written again counts once.
  const reached: { outcome: DeliveryOutcome; teamId: string }[] = [];
  let notices: Notice[] = [];
  await inTransaction(pool, async (client) => {
    reached.length = 0;
    const retrying = rows.filter((r) => r.status === "retrying").map((r) => r.delivery.id);
    // With no retrying outcome (a healthy storm's batches), each outcome is joined to its row by
    // hashing, never by a nested loop: planned on statistics that make the batch's rows look like
    // one (a day analysed before a storm), the loop unpacked the outcome lists again for every
    // row, 25 ms of a 31 ms batch of 64 (lib/webhooks/delivery/plans.test.ts). The supersede
    // lookup, which a retrying outcome adds, keeps the planner's choice: it joins in a subquery.
    // Sent from EventQueue rows (event-queue.ts): each delivered one's row written once, finished;
    // the others written as claimed, then recorded below as any other.
    const fromQueue = rows.filter((r): r is typeof r & { delivery: FromQueue } => sentFromQueue(r.delivery));
    const finished = new Set<string>();
    if (fromQueue.length > 0) {
      const delivered = fromQueue.filter((r) => r.status === "delivered");
      if (delivered.length > 0) {
        await writeDelivered(client, delivered, options.now);
        for (const r of delivered) finished.add(r.delivery.id);
      }
      const claimed = fromQueue.filter((r) => r.status !== "delivered");
      if (claimed.length > 0) {
        await client.query(WRITE_QUEUED_SQL, writeQueuedParams(claimed.map((r) => queuedRowOf(r.delivery)), options.now, null));
      }
      await client.query(namedStatement(DELETE_SQL, [[...new Set(fromQueue.map((r) => r.delivery.queuedIn.eventId))]]));
    }
    const rest = finished.size === 0 ? rows : rows.filter((r) => !finished.has(r.delivery.id));
    const col = <T,>(pick: (row: (typeof rows)[number]) => T) => rest.map(pick);
    const hashOnly = retrying.length === 0 && rest.length > 0;
    if (hashOnly) await client.query("SET LOCAL enable_nestloop = off");
    const updated =
      rest.length === 0
        ? { rows: [] }
        : await client.query<{ id: string; status: string }>(
      `${retrying.length > 0 ? outdatedSql : ""}
       UPDATE "Delivery" d SET
         status = CASE WHEN o.newer IS NOT NULL THEN 'superseded'::"DeliveryStatus" ELSE u.status::"DeliveryStatus" END,
         "supersededById" = COALESCE(o.newer, d."supersededById"),
         "nextAttemptAt" = CASE WHEN u.delay IS NULL OR o.newer IS NOT NULL THEN NULL ELSE ${dbNow(8)} + make_interval(secs => u.delay / 1000.0) END,
         "leaseExpiresAt" = NULL,
         "lastStatusCode" = u.code,
         "lastError" = CASE WHEN o.newer IS NOT NULL THEN u.reason || '; superseded by ' || o.newer || ', a newer state of this alert' ELSE u.reason END,
         "lastLatencyMs" = u.duration,
         "deliveredAt" = CASE WHEN u.status = 'delivered' THEN ${dbNow(8)} ELSE d."deliveredAt" END,
         "updatedAt" = ${dbNow(8)}
       FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[], $5::int[], $6::text[], $7::int[])
         AS u(id, attempts, status, delay, code, reason, duration)
       LEFT JOIN ${retrying.length > 0 ? "outdated" : "(SELECT NULL::text AS id, NULL::text AS newer WHERE $9::text[] IS NULL)"} o ON o.id = u.id
       -- The id list as an index condition too: joined to unnest() alone, batches of a few
       -- hundred on a table of tens of thousands of rows were planned as a scan of all of it.
       -- Looked up by id through each day's primary key (id, "createdAt"); the times only bound
       -- which days are planned for. With each row's time in the lookup as well, a partition
       -- analysed before a storm made a scan of the whole day look cheaper, and a batch took
       -- 53 ms instead of 3 at 400 alerts/s. The list as a subquery's value: PostgreSQL weighs a
       -- list it can see element by element, a quarter of a batch's planning at 400 ids.
       WHERE d.id = ANY((SELECT $1::text[])::text[]) AND d."createdAt" BETWEEN $10::timestamp AND $11::timestamp AND d.id = u.id AND d.attempts = u.attempts
       RETURNING d.id, d.status`,
      [
        col((r) => r.delivery.id),
        col((r) => r.delivery.attempts),
        col((r) => r.status),
        col((r) => r.delay),
        col((r) => r.result.statusCode),
        col((r) => r.reason),
        col((r) => r.result.durationMs),
        now,
        retrying,
        ...days,
      ],
    );
    if (hashOnly) await client.query("SET LOCAL enable_nestloop = on");
    // The other attempts (the queue's delivered ones were written with their rows above). One
    // already written is skipped: a batch whose COMMIT was sent but never answered is written
    // again, with the same start time (part of the key: attempts are partitioned by it).
    const written =
      rest.length === 0
        ? { rows: [] }
        : await client.query<{ id: string }>(
      `INSERT INTO "DeliveryAttempt" ("deliveryId", number, "startedAt", "durationMs", "statusCode", "errorClass", "errorMessage", "responseExcerpt")
       SELECT u.id, u.number, u.started AT TIME ZONE 'UTC', u.duration, u.code, u.class, u.reason, u.excerpt
       FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::text[], $8::text[])
         AS u(id, number, started, duration, code, class, reason, excerpt)
       -- The batch's ids as an index condition, as in the update above: as a correlated EXISTS,
       -- a batch of some 600 (400 alerts/s × 10 endpoints) was planned as a hash join over a scan
       -- of the whole day's deliveries, 80 ms a batch instead of 5.
       WHERE u.id IN (SELECT d.id FROM "Delivery" d WHERE d.id = ANY((SELECT $1::text[])::text[]) AND d."createdAt" BETWEEN $9::timestamp AND $10::timestamp)
       ON CONFLICT ("deliveryId", number, "startedAt") DO NOTHING
       RETURNING "deliveryId" AS id`,
      [
        col((r) => r.delivery.id),
        col((r) => r.delivery.attempts),
        col((r) => r.startedAt.toISOString()),
        col((r) => r.result.durationMs),
        col((r) => r.result.statusCode),
        col((r) => r.result.errorClass),
        col((r) => r.reason),
        col((r) => r.excerpt),
        ...days,
      ],
    );
    // Only outcomes that were still current count toward the endpoint's health, and each once:
    // written again, an outcome finds its attempt row there and is not counted a second time.
    const current = new Map(updated.rows.map((row) => [row.id, row.status]));
    for (const id of finished) current.set(id, "delivered");
    const firstWritten = new Set([...finished, ...written.rows.map((row) => row.id)]);
    const counted = rows.filter((r) => current.has(r.delivery.id) && firstWritten.has(r.delivery.id));
    for (const r of counted) {
      const status = current.get(r.delivery.id)!;
      reached.push({ outcome: status === "retrying" ? "retried" : (status as DeliveryOutcome), teamId: r.delivery.teamId });
    }
    notices = await applyFailurePolicy(
      client,
      counted.map((r) => ({
        endpointId: r.delivery.endpointId,
        ok: r.result.ok,
        newFailure: !r.result.ok && !r.delivery.wasRetrying,
        gone: r.gone,
        reason: r.reason,
      })),
      options.policy,
      options.now,
    );
    // After the policy, which locks these endpoints in id order: health rows and certificate
    // notes of an endpoint are then only ever written by the one batch holding its lock.
    await recordHealth(
      client,
      counted.map((r) => ({ endpointId: r.delivery.endpointId, startedAt: r.startedAt, ok: r.result.ok, statusCode: r.result.statusCode, durationMs: r.result.durationMs })),
    );
    await noteCertificates(
      client,
      counted.flatMap((r) => (r.result.certificate ? [{ endpointId: r.delivery.endpointId, certificate: r.result.certificate }] : [])),
      options.now,
    );
  });
  const m = metrics();
  // One inc per outcome (and team) of the batch, not one per row.
  const tally = new Map<string, { labels: Record<string, string>; n: number }>();
  for (const { outcome, teamId } of reached) {
    const labels = withTeam({ outcome }, teamId);
    const key = `${outcome}\u0000${labels.team ?? ""}`;
    const entry = tally.get(key) ?? tally.set(key, { labels, n: 0 }).get(key)!;
    entry.n += 1;
  }
  for (const { labels, n } of tally.values()) child(m.deliveries, labels).inc(n);
  for (const notice of notices) {
    m.notifications.inc({ kind: notice.kind });
    if (notice.kind === "endpoint_disabled") m.autoDisables.inc();
  }
}

const QUARANTINE_MAX_DETAIL = 200;

/**
 * True only when PostgreSQL itself refused the data (a SQLSTATE outside the connection and
 * shutdown classes). Anything else, such as a dropped connection, is not the row's fault:
 * those results are kept for a later try, never quarantined.
 */
function refusedByDatabase(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // 08 connection, 40 deadlock or serialization (try again), 53 resources, 57 shutdown.
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !isDatabaseUnavailable(error) && !/^(08|40|53|57)/.test(code);
}

/** Marks a delivery whose result cannot be stored as failed, with why; it is never sent again by itself. */
async function quarantine(pool: pg.Pool, outcome: Outcome, error: unknown, now: Date | null) {
  const detail = (error instanceof Error ? error.message : String(error)).split("\n")[0]!.slice(0, QUARANTINE_MAX_DETAIL);
  const reason = storableText(`quarantined: the result of attempt ${outcome.delivery.attempts} could not be stored (${detail})`);
  await pool.query(
    `UPDATE "Delivery" SET ${finishDeliverySql("failed", "$3", dbNow(4))}
     WHERE id = $1 AND attempts = $2`,
    [outcome.delivery.id, outcome.delivery.attempts, reason, now?.toISOString() ?? null],
  );
  metrics().deliveries.inc(withTeam({ outcome: "quarantined" }, outcome.delivery.teamId));
  console.error(`[mon1tor] quarantined delivery ${outcome.delivery.id}: ${detail}`);
}

/**
 * Records `outcomes` so that none can hurt another. Returns the outcomes still to be
 * recorded because the database is unavailable or the connection failed (the caller keeps
 * them for the next try).
 */
export async function recordOutcomes(pool: pg.Pool, outcomes: Outcome[], options: RecordOptions): Promise<Outcome[]> {
  try {
    await recordBatch(pool, outcomes, options);
    return [];
  } catch (error) {
    if (!refusedByDatabase(error)) return outcomes;
    if (outcomes.length > 1) console.error(`[mon1tor] a batch of ${outcomes.length} results failed; recording them one by one`);
  }
  // Sent from queue rows: written as claimed rows first (nothing a receiver sent is in them), so
  // that each can be recorded, or quarantined, alone.
  const queued = outcomes.map((o) => o.delivery).filter(sentFromQueue);
  if (queued.length > 0) {
    try {
      await writeAsRows(pool, queued, { now: options.now, leaseMs: null, counted: true, done: true });
    } catch (error) {
      // Only ids and times are in these rows: a refusal is not the receivers' data. Kept for a later try.
      if (!refusedByDatabase(error)) return outcomes;
      throw error;
    }
  }
  for (const [index, outcome] of outcomes.entries()) {
    try {
      await recordBatch(pool, [outcome], options);
    } catch (error) {
      if (!refusedByDatabase(error)) return outcomes.slice(index);
      try {
        await quarantine(pool, outcome, error, options.now);
      } catch (quarantineError) {
        if (!refusedByDatabase(quarantineError)) return outcomes.slice(index);
        // Left leased: the claim refuses it once its attempts are used up.
        console.error(`[mon1tor] could not quarantine delivery ${outcome.delivery.id}:`, quarantineError instanceof Error ? quarantineError.message : quarantineError);
      }
    }
  }
  return [];
}
