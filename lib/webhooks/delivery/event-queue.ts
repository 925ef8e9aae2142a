// The event as the queue (issue 24; on with MON1TOR_EVENT_QUEUE). A new alert's ingest writes one
// EventQueue row that lists the endpoints its event goes to and their delivery ids, instead of a
// queued Delivery row per endpoint; a claim leases that row; and each delivery's row is written
// once, finished, with its attempt, in the batch that deletes the queue row (record.ts). In a
// healthy storm that is one queue row per alert where today's queue writes, locks, updates and
// rewrites a row per delivery (`npm run bench:event-queue`).
//
// Only the common case goes this way. Everything else is written as a queued Delivery row, and
// from then on is handled by the code every delivery always had (claim.ts, record.ts, backlog.ts):
// - at the claim, an endpoint that is no longer active over plain HTTP with no delivery cap, or
//   that has no room in this process (a slow endpoint at its in-flight limit);
// - a queue row claimed again (the first claim's lease ran out: its worker died or stalled), whose
//   deliveries are written with the attempt that claim counted;
// - a delivery still in flight EVENT_HOLD_MS after the first of its event's outcomes (a slow
//   receiver), written as a leased row so its event's other outcomes need not wait for it;
// - an attempt that failed (written as claimed, then recorded as any other: retried, superseded or
//   failed) and a batch PostgreSQL refused (recorded row by row).
// An alert's later states are ordinary queued rows; the claim holds one back while its alert's
// queue row lists the endpoint (claim.ts), so an alert's states still reach an endpoint in order.
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { dbNow, inTransaction, namedStatement } from "@/lib/db";
import { RESTART_GRACE_SECONDS, type Claimed } from "@/lib/webhooks/delivery/claim";
import { MAX_ATTEMPTS } from "@/lib/webhooks/delivery/retry";
import type { OutboundResult } from "@/lib/webhooks/delivery/outbound";

/** Endpoint row `e` may be sent to from an EventQueue row: over HTTP, with no delivery cap to count against. */
export const eventQueueTakesSql = (e: string) => `(${e}.kind = 'http' AND ${e}."deliveryRateCap" IS NULL)`;

/** How long a delivery may stay in flight after its event's first outcome before it is written as a leased row. */
export const EVENT_HOLD_MS = 1_000;

/** Where a delivery sent from an EventQueue row came from: what writing its row needs that Claimed lacks. */
export type QueuedIn = { eventId: string; alertId: string | null; sequence: number | null; claims: number };

const NOW = dbNow(1);

/**
 * Leases up to $2 unleased queue rows, oldest first ($3 the lease, ms), from $4 on if given, and
 * reads each one's event through its day partition. An event that is gone (with its team) has a
 * null body. Returns, on every row, the newest "createdAt" leased ("reached"), for the next claim's $4.
 */
const LEASE_SQL = `WITH picked AS (
       SELECT q."eventId" FROM "EventQueue" q
       WHERE q."createdAt" >= COALESCE($4::timestamp, '-infinity')
         AND (q."leaseExpiresAt" IS NULL OR (q."leaseExpiresAt" <= ${NOW}
           AND ($1::timestamptz IS NOT NULL OR now() >= pg_postmaster_start_time() + interval '${RESTART_GRACE_SECONDS} seconds')))
       ORDER BY q."createdAt"
       LIMIT $2
       FOR NO KEY UPDATE SKIP LOCKED
     ), leased AS (
       UPDATE "EventQueue" q SET "leaseExpiresAt" = ${NOW} + make_interval(secs => $3::double precision / 1000), claims = q.claims + 1
       FROM picked WHERE q."eventId" = picked."eventId"
       RETURNING q."eventId", q."teamId", q."alertId", q.claims, q."endpointIds", q."deliveryIds", q."eventCreatedAt", q."createdAt"
     )
     SELECT l."eventId", l."teamId", l."alertId", l.claims,
            array_to_string(l."endpointIds", ',') AS "endpointIds", array_to_string(l."deliveryIds", ',') AS "deliveryIds",
            to_char(l."eventCreatedAt", 'YYYY-MM-DD HH24:MI:SS.US') AS "createdAt", l."eventCreatedAt" AT TIME ZONE 'UTC' AS "queuedAt",
            ev.body, ev.traceparent, ev.sequence, to_char(max(l."createdAt") OVER (), 'YYYY-MM-DD HH24:MI:SS.US') AS reached
     FROM leased l
     LEFT JOIN LATERAL (
       SELECT ev.body, ev.traceparent, ev.sequence FROM "Event" ev WHERE ev.id = l."eventId" AND ev."createdAt" = l."eventCreatedAt" LIMIT 1
     ) ev ON true
     ORDER BY l."eventCreatedAt"`;

/**
 * When a worker vacuums EventQueue itself: once it has removed this many of its rows, the first of
 * them at least this long ago. A storm deletes its queue rows as fast as it sends them, and
 * autovacuum visits a table once a minute at most (autovacuum_naptime, server-wide): until then
 * every claim that reads from the queue's head passes the dead rows (at 200 alerts/s the lease took
 * 3× the time by the end of 30 s, and PostgreSQL's CPU per alert was 6-12% higher; bench/README
 * "The queue's dead head"). A backlog drained in a few seconds is not worth a vacuum in its midst
 * (one there cost the isolation phase a few percent).
 */
export const QUEUE_VACUUM = { rows: 1_000, everyMs: 5_000 };

/**
 * Vacuums EventQueue. SKIP_LOCKED: another worker's vacuum or autovacuum already at it is enough.
 * A database user that does not own the table gets a warning and nothing is done.
 */
export async function vacuumQueue(pool: pg.Pool) {
  await pool.query(`VACUUM (SKIP_LOCKED) "EventQueue"`);
}

/** Removes queue rows ($1 their event ids) whose deliveries are all written. */
export const DELETE_SQL = `DELETE FROM "EventQueue" WHERE "eventId" = ANY($1::text[])`;

/** What sending to each endpoint needs, and whether it may still be sent to from the queue. */
const ENDPOINTS_SQL = `SELECT e.id, e.url, e.kind, e."secretCiphertext",
            CASE WHEN e."previousSecretExpiresAt" > ${NOW} THEN e."previousSecretCiphertext" END AS "previousSecretCiphertext",
            e."customHeadersCiphertext", e.status = 'active' AND ${eventQueueTakesSql("e")} AS fast
     FROM "WebhookEndpoint" e WHERE e.id = ANY($2::text[])`;

/**
 * Writes deliveries as queued Delivery rows, due now (or leased, with `leaseMs`), each with the
 * attempts already counted. A row already there is left as it is: written by an earlier claim or
 * hold of the same queue row. Statement text for `client.query`: $1..$8 the rows' columns, $9 now,
 * $10 the lease (ms) or null.
 */
export const WRITE_QUEUED_SQL = `INSERT INTO "Delivery" (id, "teamId", "endpointId", "eventId", "alertId", sequence, attempts,
                                  "nextAttemptAt", "leaseExpiresAt", "createdAt", "updatedAt")
     SELECT u.id, u.team, u.endpoint, u.event, u.alert, u.sequence, u.attempts,
            ${dbNow(9)}, ${dbNow(9)} + make_interval(secs => $10::double precision / 1000), u.created, ${dbNow(9)}
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::timestamp[])
       AS u(id, team, endpoint, event, alert, sequence, attempts, created)
     ON CONFLICT DO NOTHING`;

/** A delivery sent from a queue row and answered 2xx, as writeDelivered takes it. */
export type DeliveredFromQueue = {
  delivery: FromQueue;
  startedAt: Date;
  result: Pick<OutboundResult, "statusCode" | "durationMs" | "errorClass">;
  reason: string | null;
  excerpt: string | null;
};

const DELIVERED_COPY = `COPY "Delivery" (id, "teamId", "endpointId", "eventId", "alertId", sequence, attempts, status,
                             "lastStatusCode", "lastError", "lastLatencyMs", "deliveredAt", "createdAt", "updatedAt") FROM STDIN`;
const DELIVERED_ATTEMPTS_COPY = `COPY "DeliveryAttempt" ("deliveryId", number, "startedAt", "durationMs", "statusCode", "errorClass", "errorMessage", "responseExcerpt") FROM STDIN`;

const COPY_ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };
/** A field of COPY's text format: \N for null, and backslash, tab, newline and carriage return escaped. */
export function copyField(value: string | number | null): string {
  if (value === null) return "\\N";
  if (typeof value === "number") return String(value);
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : value;
}

/**
 * Rows in COPY's text format (rows of one width): every field and separator of every row joined
 * once, into one flat string, with no array or string per row on the way.
 */
function copyRows(rows: (string | number | null)[][]): string {
  const width = rows[0]?.length ?? 0;
  // Sized once: grown by push, its copies were most of the garbage made here.
  const parts = new Array<string>(rows.length * width * 2);
  let k = 0;
  for (const row of rows) {
    for (let i = 0; i < width; i++) {
      parts[k++] = copyField(row[i] ?? null);
      parts[k++] = i === width - 1 ? "\n" : "\t";
    }
  }
  return parts.join("");
}

async function copyIn(client: pg.PoolClient, sql: string, text: string) {
  const stream = client.query(copyFrom(sql));
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.on("finish", resolve);
    stream.end(text);
  });
}

/**
 * Writes delivered deliveries sent from queue rows: once, finished, each with its attempt row, by
 * COPY. PostgreSQL writes COPY's rows a page at a time (one WAL record for the rows that share a
 * page, not one per row): an INSERT ... SELECT of the same rows logged each with its own record, about
 * 50 bytes more per row, two rows per delivery. Plain inserts: none of these rows exists yet, except
 * after a batch whose COMMIT went unanswered, whose rows make this fail as a duplicate;
 * recordOutcomes (record.ts) then writes the batch again as rows, one by one. Their time (delivered,
 * updated) is `now`, or this process's clock: COPY takes values, not now().
 */
export async function writeDelivered(client: pg.PoolClient, sent: DeliveredFromQueue[], now: Date | null) {
  const at = (now ?? new Date()).toISOString();
  await copyIn(
    client,
    DELIVERED_COPY,
    copyRows(
      sent.map(({ delivery: d, result, reason }) => [
        d.id, d.teamId, d.endpointId, d.queuedIn.eventId, d.queuedIn.alertId, d.queuedIn.sequence, d.attempts, "delivered",
        result.statusCode, reason, result.durationMs, at, d.createdAt, at,
      ]),
    ),
  );
  await copyIn(
    client,
    DELIVERED_ATTEMPTS_COPY,
    copyRows(sent.map(({ delivery: d, startedAt, result, reason, excerpt }) => [d.id, d.attempts, startedAt.toISOString(), result.durationMs, result.statusCode, result.errorClass, reason, excerpt])),
  );
}

export type QueuedRow = { id: string; teamId: string; endpointId: string; eventId: string; alertId: string | null; sequence: number | null; attempts: number; createdAt: string };

/** The rows' columns: $1..$8 of WRITE_QUEUED_SQL. */
const rowColumns = (rows: QueuedRow[]) => [
  rows.map((r) => r.id),
  rows.map((r) => r.teamId),
  rows.map((r) => r.endpointId),
  rows.map((r) => r.eventId),
  rows.map((r) => r.alertId),
  rows.map((r) => r.sequence),
  rows.map((r) => r.attempts),
  rows.map((r) => r.createdAt),
];

/** WRITE_QUEUED_SQL's parameters. */
export const writeQueuedParams = (rows: QueuedRow[], now: Date | null, leaseMs: number | null) => [...rowColumns(rows), now?.toISOString() ?? null, leaseMs];

/** A delivery sent from a queue row, as its queued Delivery row (with the attempt its claim counted). */
export const queuedRowOf = (delivery: FromQueue): QueuedRow => ({
  id: delivery.id,
  teamId: delivery.teamId,
  endpointId: delivery.endpointId,
  eventId: delivery.queuedIn.eventId,
  alertId: delivery.queuedIn.alertId,
  sequence: delivery.queuedIn.sequence,
  attempts: delivery.attempts,
  createdAt: delivery.createdAt,
});

export type FromQueue = Claimed & { queuedIn: QueuedIn };
export const fromQueue = (delivery: Claimed): delivery is FromQueue => delivery.queuedIn !== undefined;

/**
 * Writes deliveries claimed from queue rows as their own queued Delivery rows, and from then on
 * they are recorded as any other. `leaseMs`: held by this process (sending, or about to: EVENT_HOLD_MS),
 * else due now. `counted`: with the attempt their claim counted; not for ones given back unsent
 * (a worker stopping). `done`: their queue rows go too (a batch PostgreSQL refused, written again
 * row by row, record.ts).
 */
export async function writeAsRows(pool: pg.Pool, deliveries: FromQueue[], options: { now: Date | null; leaseMs: number | null; counted: boolean; done: boolean }) {
  const rows = deliveries.map((d) => ({ ...queuedRowOf(d), attempts: options.counted ? d.attempts : d.attempts - 1 }));
  await inTransaction(pool, async (client) => {
    await client.query(WRITE_QUEUED_SQL, writeQueuedParams(rows, options.now, options.leaseMs));
    if (options.done) await client.query(namedStatement(DELETE_SQL, [[...new Set(deliveries.map((d) => d.queuedIn.eventId))]]));
  });
  for (const delivery of deliveries) delete (delivery as Claimed).queuedIn;
}

type Leased = {
  eventId: string;
  teamId: string;
  alertId: string | null;
  claims: number;
  endpointIds: string[];
  deliveryIds: string[];
  createdAt: string;
  queuedAt: Date;
  reached: string;
} & ({ body: string; traceparent: string | null; sequence: number | null } | { body: null; traceparent: null; sequence: null });
/**
 * A row as LEASE_SQL returns it: its id lists joined with commas, which none of our ids holds
 * (cuids; msg_ ids are base 36 and base64url). pg's parser for text[] built each id character by
 * character, some 1.7 KB of garbage per delivery in a storm; a split makes only the ids.
 */
type LeasedRow = Leased extends infer L ? (L extends unknown ? Omit<L, "endpointIds" | "deliveryIds"> & { endpointIds: string | null; deliveryIds: string | null } : never) : never;
const idList = (joined: string | null) => (joined ? joined.split(",") : []);
const withIdLists = (row: LeasedRow) => ({ ...row, endpointIds: idList(row.endpointIds), deliveryIds: idList(row.deliveryIds) }) as Leased;
type EndpointRow = Pick<Claimed, "url" | "kind" | "secretCiphertext" | "previousSecretCiphertext" | "customHeadersCiphertext"> & { id: string; fast: boolean };

/**
 * Claims up to `limit` queue rows and returns the deliveries to send now, each with its event's
 * body and its endpoint's settings. `room(endpointId)` is how many more this process may send to
 * an endpoint now; what it may not, and everything of a row claimed before, is written as queued
 * Delivery rows (the file's header) in the same transaction. `drained`: fewer rows were unleased
 * than asked for.
 */
export async function claimEvents(
  pool: pg.Pool,
  options: {
    now: Date | null;
    limit: number;
    leaseMs: number;
    room: (endpointId: string) => number;
    /**
     * Where the last claim's rows ended ("createdAt" as it returned it), to read on from there: the
     * rows before it are taken, or deleted and not yet vacuumed, and a queue drained at thousands a
     * second has tens of thousands of those at its head, which every claim from the head read
     * through (5.8 ms a claim in the bench's batch phase). Null reads from the head, which picks up
     * rows whose lease ran out behind it.
     */
    after?: string | null;
  },
): Promise<{ deliveries: (Claimed & { queuedIn: QueuedIn })[]; drained: boolean; written: number; reached: string | null }> {
  const now = options.now?.toISOString() ?? null;
  return inTransaction(pool, async (client) => {
    // Named, as every statement here that runs once a claim: planned on every call, the lease
    // statement's lookup across the event's day partitions was 0.36 ms of PostgreSQL's CPU a claim.
    // Its one plan takes the oldest rows off the index in order, never sorts the whole queue (a
    // plan made while the queue was empty would otherwise sort it once a worker was long away).
    await client.query("SET LOCAL enable_sort = off");
    const leased = (await client.query<LeasedRow>(namedStatement(LEASE_SQL, [now, options.limit, options.leaseMs, options.after ?? null]))).rows.map(withIdLists);
    if (leased.length === 0) return { deliveries: [], drained: true, written: 0, reached: null };
    const endpoints = await client.query<EndpointRow>(namedStatement(ENDPOINTS_SQL, [now, [...new Set(leased.flatMap((l) => l.endpointIds))]]));
    const endpointOf = new Map(endpoints.rows.map((e) => [e.id, e]));
    const taken = new Map<string, number>();
    const deliveries: (Claimed & { queuedIn: QueuedIn })[] = [];
    const queued: QueuedRow[] = [];
    const done: string[] = [];
    const narrowed: { eventId: string; endpointIds: string[]; deliveryIds: string[] }[] = [];
    for (const row of leased) {
      const event = row.body === null ? null : row;
      const sending: number[] = [];
      row.endpointIds.forEach((endpointId, i) => {
        const endpoint = endpointOf.get(endpointId);
        // Gone with its endpoint (its deliveries would have been deleted with it), or its event with its team.
        if (!endpoint || !event) return;
        const room = options.room(endpointId) - (taken.get(endpointId) ?? 0);
        if (row.claims === 1 && endpoint.fast && room > 0) {
          taken.set(endpointId, (taken.get(endpointId) ?? 0) + 1);
          sending.push(i);
          return;
        }
        // Claimed before: that claim counted an attempt, which may have been sent.
        queued.push({
          id: row.deliveryIds[i]!,
          teamId: row.teamId,
          endpointId,
          eventId: row.eventId,
          alertId: row.alertId,
          sequence: event.sequence,
          attempts: row.claims - 1,
          createdAt: row.createdAt,
        });
      });
      if (sending.length === 0) {
        done.push(row.eventId);
        continue;
      }
      if (sending.length < row.endpointIds.length) {
        narrowed.push({ eventId: row.eventId, endpointIds: sending.map((i) => row.endpointIds[i]!), deliveryIds: sending.map((i) => row.deliveryIds[i]!) });
      }
      const queuedIn: QueuedIn = { eventId: row.eventId, alertId: row.alertId, sequence: row.sequence, claims: row.claims };
      const body = Buffer.from(row.body!);
      for (const i of sending) {
        const endpoint = endpointOf.get(row.endpointIds[i]!)!;
        deliveries.push({
          id: row.deliveryIds[i]!,
          createdAt: row.createdAt,
          attempts: 1,
          maxAttempts: MAX_ATTEMPTS,
          endpointId: endpoint.id,
          url: endpoint.url,
          kind: endpoint.kind,
          secretCiphertext: endpoint.secretCiphertext,
          previousSecretCiphertext: endpoint.previousSecretCiphertext,
          customHeadersCiphertext: endpoint.customHeadersCiphertext,
          body,
          wasRetrying: false,
          teamId: row.teamId,
          queuedAt: row.queuedAt,
          traceparent: row.traceparent,
          queuedIn,
        });
      }
    }
    if (queued.length > 0) await client.query(WRITE_QUEUED_SQL, writeQueuedParams(queued, options.now, null));
    if (done.length > 0) await client.query(namedStatement(DELETE_SQL, [done]));
    if (narrowed.length > 0) {
      // What is left for this claim to send; the rest are queued rows now.
      await client.query(
        `UPDATE "EventQueue" q SET "endpointIds" = n.endpoints, "deliveryIds" = n.deliveries
         FROM jsonb_to_recordset($1::jsonb) AS n("eventId" text, endpoints text[], deliveries text[])
         WHERE q."eventId" = n."eventId"`,
        [JSON.stringify(narrowed.map((n) => ({ eventId: n.eventId, endpoints: n.endpointIds, deliveries: n.deliveryIds })))],
      );
    }
    return { deliveries, drained: leased.length < options.limit, written: queued.length, reached: leased[0]!.reached };
  });
}

/**
 * Renews the leases of queue rows whose deliveries this process still sends or holds (event id
 * → the claim it made); only where that claim is still the row's latest. Locked rows (being
 * recorded) are skipped.
 */
export async function extendEventLeases(pool: pg.Pool, options: { now: Date | null; leaseMs: number; held: ReadonlyMap<string, number> }) {
  await pool.query(
    `WITH renew AS (
       SELECT q."eventId" FROM "EventQueue" q JOIN unnest($2::text[], $3::int[]) AS h(id, claims) ON h.id = q."eventId" AND h.claims = q.claims
       ORDER BY q."eventId"
       FOR NO KEY UPDATE OF q SKIP LOCKED
     )
     UPDATE "EventQueue" q SET "leaseExpiresAt" = ${NOW} + make_interval(secs => $4::double precision / 1000)
     FROM renew WHERE q."eventId" = renew."eventId"`,
    [options.now?.toISOString() ?? null, [...options.held.keys()], [...options.held.values()], options.leaseMs],
  );
}
