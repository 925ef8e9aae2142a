// Claiming due deliveries: FOR UPDATE SKIP LOCKED, and the claim itself sets a lease
// (leaseExpiresAt) and counts the attempt. A worker that dies leaves its deliveries to be
// claimed again when the lease runs out. The claim leaves nextAttemptAt alone: it writes no
// indexed column, so PostgreSQL can update the row in place (a HOT update, with room kept
// free on Delivery's pages) instead of adding an entry to each of its indexes. Time is PostgreSQL's own
// (`now()`), so clock skew between machines cannot make two workers hold one delivery;
// tests may pass an explicit time instead.
import type pg from "pg";
import { dbNow, inTransaction, namedStatement } from "@/lib/db";
import { finishDeliverySql } from "@/lib/webhooks/delivery/finish";
import type { QueuedIn } from "@/lib/webhooks/delivery/event-queue";
import { historyPartitions, legacyPartition, queuedDays } from "@/lib/webhooks/delivery/retention";

export type Claimed = {
  id: string;
  /**
   * The row's "createdAt" to the microsecond, as 'YYYY-MM-DD HH24:MI:SS.US' whatever the session's
   * DateStyle (so these compare as text): with the id, its key in the day partitions.
   */
  createdAt: string;
  /** This attempt's number (1-based): the claim already counted it. */
  attempts: number;
  maxAttempts: number;
  endpointId: string;
  url: string;
  /** "relay": sent through a connected `mon1tor listen` (lib/relay/transport.ts), not to the URL. */
  kind: "http" | "relay";
  secretCiphertext: string;
  /** The rolled-away secret while its overlap lasts, else null. */
  previousSecretCiphertext: string | null;
  customHeadersCiphertext: string | null;
  /**
   * The event's body as sent: its bytes, made once per event and shared by its deliveries, signed
   * and sent as they are. As a string, each delivery encoded it three times (each signature and the
   * request), and the Standard Webhooks signature's "id.timestamp.body" was a new copy per delivery.
   */
  body: Buffer;
  /** Already failed before: a further failure is not a new failed delivery. */
  wasRetrying: boolean;
  teamId: string;
  /** When the delivery was queued (its alert accepted). */
  queuedAt: Date;
  /** The trace of the call that queued it (lib/telemetry/tracing.ts), or null. */
  traceparent: string | null;
  /** Sent from an EventQueue row, which has no Delivery row for it yet (lib/webhooks/delivery/event-queue.ts). */
  queuedIn?: QueuedIn;
};

export const EXHAUSTED_REASON = "gave up: every allowed attempt was made, and the last one's result was never recorded";


/**
 * For how long after PostgreSQL (re)starts no lease runs out. While the database was away no
 * holder could renew its leases or write its outcomes; after an outage longer than a lease,
 * another worker would otherwise claim and send again what the holder, reconnecting a moment
 * later, was about to record. Holders renew at least every 10 s (lib/webhooks/delivery/dispatch.ts).
 */
export const RESTART_GRACE_SECONDS = 30;

const legacyEnds = new WeakMap<pg.Pool, Promise<string>>();
/**
 * Where the history from before partitioning ends (its partition's upper bound), read once per
 * pool: a delivery dated before it may have its event on an earlier day. Once that partition is
 * dropped nothing is dated there, so a value read earlier stays right.
 */
function legacyHistoryEnd(pool: pg.Pool): Promise<string> {
  let end = legacyEnds.get(pool);
  if (!end) {
    end = historyPartitions(pool).then((partitions) => legacyPartition(partitions)?.to.toISOString() ?? "-infinity");
    end.catch(() => legacyEnds.delete(pool));
    legacyEnds.set(pool, end);
  }
  return end;
}

/**
 * How long the queued days one claim read serve the next claims of the same pool. Reading them
 * took 0.45 ms of PostgreSQL's CPU a claim (most of it planning, across every day partition),
 * and a worker claims 30 to 40 times a second at 200 alerts/s. The last day is always at least
 * today (this process's clock, UTC), so a new day's deliveries are not missed; what can wait about
 * this long more (until a claim reads them afresh) is a delivery dated on an earlier day than the
 * first queued one when they were read: a replay or a redelivery of an older event (its day is the
 * event's, retention.ts); and a retry, when none was queued then (the first comes 5 s after its
 * failure). On an explicit clock (tests) they are always read.
 */
const QUEUED_DAYS_REUSE_MS = 1_000;
const lastQueuedDays = new WeakMap<pg.Pool, { at: number; days: QueuedDays }>();
type QueuedDays = NonNullable<Awaited<ReturnType<typeof queuedDays>>>;

/** queuedDays(), or what a claim of this pool read less than QUEUED_DAYS_REUSE_MS ago, unless `afresh`. */
async function recentQueuedDays(pool: pg.Pool, client: pg.PoolClient, afresh: boolean) {
  const now = Date.now();
  const recent = afresh ? undefined : lastQueuedDays.get(pool);
  if (recent && now - recent.at < QUEUED_DAYS_REUSE_MS) {
    const today = new Date(now).toISOString().slice(0, 10);
    return { ...recent.days, last: recent.days.last > today ? recent.days.last : today };
  }
  const days = await queuedDays(client);
  if (days) lastQueuedDays.set(pool, { at: now, days });
  else lastQueuedDays.delete(pool);
  return days;
}

// Time is PostgreSQL's own unless a test passes one ($1 in both of the claim's statements).
const NOW = dbNow(1);
/** The minute a delivery cap (deliveryRateCap) counts in. */
const MINUTE = `date_trunc('minute', ${NOW})`;

/** Nobody holds row `d`: never leased, or its lease ran out (on an explicit clock, tests, no restart grace). */
const UNHELD = `(d."leaseExpiresAt" IS NULL OR (d."leaseExpiresAt" <= ${NOW}
         AND ($1::timestamptz IS NOT NULL OR now() >= pg_postmaster_start_time() + interval '${RESTART_GRACE_SECONDS} seconds')))`;

/** Row `row` is dated within the days that hold queued deliveries, $<first> to $<first + 1> (queuedDays()). */
const inDays = (row: string, first: number) => `${row}."createdAt" >= $${first}::date AND ${row}."createdAt" < $${first + 1}::date + 1`;

/**
 * The claim's second statement: takes the rows the first one chose ($2), locking each as it is
 * checked again, so that a row another worker took meanwhile is skipped; counts the attempt and
 * sets the lease; and returns what sending needs. Marks failed the chosen rows at their attempt
 * cap ($3). $4 the lease (ms), $5 the reason for rows given up, $6 where the history from before
 * partitioning ends, $7 and $8 the queued days.
 *
 * Named, with one generic plan per connection: planning it on every call was 40% of the claim's
 * planning (0.7 of 1.7 ms). A generic plan is made once, for the statistics of its moment, and
 * one made while the tables were small had read a day's whole partition for every claim (40,000
 * rows in lib/webhooks/delivery/plans.test.ts): its joins on the chosen rows rescanned them. So
 * nothing here is joined to a table: each Delivery row is reached through the id list as an index
 * condition, and each event and endpoint by key, once (LATERAL ... LIMIT 1, which no plan can turn
 * into a scan). The joins are of the statement's own few hundred rows.
 */
const TAKE_SQL = `WITH exhausted AS (
       -- Rows at their attempt cap are never sent again.
       UPDATE "Delivery" d
       SET ${finishDeliverySql("failed", "$5", NOW)}
       WHERE d.id = ANY($3::text[]) AND ${inDays("d", 7)} AND d.attempts >= d."maxAttempts" AND d."nextAttemptAt" IS NOT NULL
       RETURNING d."teamId"
     ), picked AS (
       SELECT d.id, d."endpointId" FROM "Delivery" d
       -- Checked again on the row as locked: another worker may have claimed it meanwhile.
       WHERE d.id = ANY($2::text[]) AND ${inDays("d", 7)} AND d."nextAttemptAt" <= ${NOW}
         AND ${UNHELD} AND d.attempts < d."maxAttempts"
       FOR NO KEY UPDATE OF d SKIP LOCKED
     ), capped AS (
       -- Locked in id order, as the failure policy does, so claims and recordings never deadlock.
       SELECT e.id FROM "WebhookEndpoint" e
       WHERE e.id = ANY((SELECT array_agg(DISTINCT "endpointId") FROM picked)::text[]) AND e."deliveryRateCap" IS NOT NULL
       ORDER BY e.id
       FOR NO KEY UPDATE OF e
     ), counted AS (
       UPDATE "WebhookEndpoint" e
       SET "rateWindowCount" = CASE WHEN e."rateWindowStart" = ${MINUTE} THEN e."rateWindowCount" ELSE 0 END + c.claimed,
           "rateWindowStart" = ${MINUTE}
       FROM (SELECT p."endpointId" AS id, count(*) AS claimed FROM picked p JOIN capped ON capped.id = p."endpointId" GROUP BY 1) c
       WHERE e.id = c.id
     ), claimed AS (
       UPDATE "Delivery" d
       SET "leaseExpiresAt" = ${NOW} + make_interval(secs => $4::double precision / 1000),
           attempts = d.attempts + 1, "updatedAt" = ${NOW}
       WHERE d.id = ANY((SELECT array_agg(id) FROM picked)::text[]) AND ${inDays("d", 7)}
       RETURNING d.id, to_char(d."createdAt", 'YYYY-MM-DD HH24:MI:SS.US') AS "createdAt", d."createdAt" AS at, d."eventId",
                 d.attempts, d."maxAttempts", d."endpointId", d.status = 'retrying' AS "wasRetrying", d."teamId",
                 d."createdAt" AT TIME ZONE 'UTC' AS "queuedAt"
     ), events AS (
       -- Each event read once, and its body sent once, on one of its deliveries' rows (the
       -- carrier): a storm's alert goes to every endpoint, and read per delivery the same body
       -- was sent and parsed, and held in memory, once per endpoint.
       SELECT g.carrier, ev.body, ev.traceparent
       FROM (SELECT "eventId", min(id) AS carrier, min(at) AS at FROM claimed GROUP BY 1) g
       -- The event is in its delivery's day (lib/webhooks/delivery/retention.ts), or, for history
       -- from before partitioning, anywhere before it: one partition to read, not every day's.
       CROSS JOIN LATERAL (
         SELECT ev.body, ev.traceparent FROM "Event" ev
         WHERE ev.id = g."eventId" AND ev."createdAt" <= g.at
           AND ev."createdAt" >= CASE WHEN g.at >= $6::timestamp THEN date_trunc('day', g.at) ELSE '-infinity' END
           AND ev."createdAt" < $8::date + 1 AND ev."createdAt" >= CASE WHEN $7::date >= $6::timestamp THEN $7::date ELSE '-infinity' END
         LIMIT 1
       ) ev
     ), endpoints AS (
       -- The same for each endpoint's settings.
       SELECT g.carrier, e.url, e.kind, e."secretCiphertext",
              CASE WHEN e."previousSecretExpiresAt" > ${NOW} THEN e."previousSecretCiphertext" END AS "previousSecretCiphertext",
              e."customHeadersCiphertext"
       FROM (SELECT "endpointId", min(id) AS carrier FROM claimed GROUP BY 1) g
       CROSS JOIN LATERAL (SELECT * FROM "WebhookEndpoint" e WHERE e.id = g."endpointId" LIMIT 1) e
     )
     -- One row at least, even when nothing was claimed: it carries the teams of the rows given up.
     SELECT c.id, c."createdAt", c.attempts, c."maxAttempts", c."endpointId", c."eventId", c."wasRetrying", c."teamId", c."queuedAt",
            ev.carrier IS NOT NULL AS "carriesEvent", ev.body, ev.traceparent,
            en.carrier IS NOT NULL AS "carriesEndpoint", en.url, en.kind, en."secretCiphertext", en."previousSecretCiphertext", en."customHeadersCiphertext",
            x.teams AS "exhaustedTeams"
     FROM (SELECT COALESCE(array_agg("teamId"), '{}') AS teams FROM exhausted) x
     LEFT JOIN (claimed c
       LEFT JOIN events ev ON ev.carrier = c.id
       LEFT JOIN endpoints en ON en.carrier = c.id
     ) ON true`;

type Event = Pick<Claimed, "body" | "traceparent">;
type Endpoint = Pick<Claimed, "url" | "kind" | "secretCiphertext" | "previousSecretCiphertext" | "customHeadersCiphertext">;
/**
 * A row of TAKE_SQL: a claimed delivery, and on its event's and its endpoint's carrier, theirs;
 * or, when nothing was claimed, one row with no delivery (id null) for the teams given up.
 */
type Taken = Omit<Claimed, keyof Event | keyof Endpoint | "id"> & { id: string | null; eventId: string; exhaustedTeams: string[] } & (
    { carriesEvent: true; body: string; traceparent: string | null } | { carriesEvent: false }
  ) & ({ carriesEndpoint: true } & Endpoint | { carriesEndpoint: false });

/**
 * The claimed deliveries of TAKE_SQL's rows, each with its event's body and its endpoint's
 * settings (one body per event, shared by its deliveries). A delivery whose event or endpoint
 * is gone is left out, as a join would have: claimed, it is given up once its attempts are used.
 */
function deliveriesOf(rows: Taken[]): Claimed[] {
  const events = new Map<string, Event>();
  const endpoints = new Map<string, Endpoint>();
  for (const row of rows) {
    if (row.carriesEvent) events.set(row.eventId, { body: Buffer.from(row.body), traceparent: row.traceparent });
    if (row.carriesEndpoint) {
      const { url, kind, secretCiphertext, previousSecretCiphertext, customHeadersCiphertext } = row;
      endpoints.set(row.endpointId, { url, kind, secretCiphertext, previousSecretCiphertext, customHeadersCiphertext });
    }
  }
  return rows.flatMap(({ id, createdAt, attempts, maxAttempts, endpointId, eventId, wasRetrying, teamId, queuedAt }) => {
    const event = events.get(eventId);
    const endpoint = endpoints.get(endpointId);
    if (id === null || !event || !endpoint) return [];
    return [{ id, createdAt, attempts, maxAttempts, endpointId, wasRetrying, teamId, queuedAt, ...event, ...endpoint }];
  });
}

/** Set for the take (see TAKE_SQL): its generic plan, and one made with no sequential scan to choose from. */
const TAKE_SETTINGS = "SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off";

export async function claimDeliveries(
  pool: pg.Pool,
  options: {
    now: Date | null;
    limit: number;
    leaseMs: number;
    /** Deliveries this process has in flight, per endpoint: they count against perEndpoint. */
    inFlight: ReadonlyMap<string, number>;
    perEndpoint: number;
    ids?: string[];
  },
): Promise<{ deliveries: Claimed[]; drained: boolean; exhaustedTeams: string[] }> {
  // Due now, and not in flight with another worker (or with this one) until the lease runs out.
  // Per endpoint and alert, in order: never a newer state while an older one is unfinished.
  // An alert's first event (most of a storm) has nothing older: no lookup.
  // Within the days that hold queued deliveries ($7 to $8, queuedDays()): PostgreSQL plans the
  // statement for those day partitions alone, not for every day's. Not in the ordering lookup
  // (`o`): bounded by day, it read the endpoint's queue through (endpointId, createdAt) for each row
  // instead of probing Delivery_unfinished_alert_idx.
  const inQueuedDays = (row: string) => inDays(row, 7);
  const isDue = `d."nextAttemptAt" <= ${NOW} AND ${UNHELD} AND ${inQueuedDays("d")}
         AND (d."alertId" IS NULL OR d.sequence <= 1 OR NOT EXISTS (
           SELECT 1 FROM "Delivery" o
           WHERE o."endpointId" = d."endpointId" AND o."alertId" = d."alertId" AND o.sequence < d.sequence AND o."nextAttemptAt" IS NOT NULL)
           -- Nor while the alert's first state waits in an EventQueue row for this endpoint (event-queue.ts).
           AND NOT EXISTS (SELECT 1 FROM "EventQueue" q WHERE q."alertId" = d."alertId" AND d."endpointId" = ANY(q."endpointIds")))`;
  // A new delivery, not parked (lib/webhooks/delivery/backlog.ts): Delivery_fresh_idx's predicate as
  // written there, so that the scans below can read that index.
  const isFresh = `d.status = 'pending' AND d."nextAttemptAt" < '9999-12-31 00:00:00' AND ${inQueuedDays("d")}`;
  // What endpoint row `e` may take now: its in-flight room in this process, and what is left of
  // its current minute if it has a delivery cap (deliveryRateCap). The rest stay due and wait;
  // they are never dropped.
  const quotaOf = (e: string) => `LEAST(
         $5 - COALESCE((SELECT b.n FROM unnest($2::text[], $6::int[]) AS b(id, n) WHERE b.id = ${e}.id), 0),
         CASE WHEN ${e}."deliveryRateCap" IS NULL THEN $5
              ELSE ${e}."deliveryRateCap" - CASE WHEN ${e}."rateWindowStart" = ${MINUTE} THEN ${e}."rateWindowCount" ELSE 0 END
         END)`;
  // Active, and for a CLI relay (lib/relay/) held by a connected mon1tor listen: a disconnected
  // relay's deliveries wait here for it to reconnect (or expire, lib/webhooks/delivery/backlog.ts).
  const sendable = (e: string) => `${e}.status = 'active' AND (${e}.kind = 'http' OR ${e}."relayStreamId" IS NOT NULL)`;
  const room = (queued: string) => `endpoints AS (
       SELECT e.id, ${quotaOf("e")} AS quota
       FROM ${queued} q
       JOIN "WebhookEndpoint" e ON e.id = q.id AND ${sendable("e")}
     )`;
  // `retries`: whether any queued delivery waits for a retry (queuedDays()).
  const head = (retries: boolean) => options.ids
    ? // Given ids (the API's immediate kick): looked up by primary key, a handful at most.
      `WITH ${room(`(SELECT DISTINCT "endpointId" AS id FROM "Delivery" d WHERE d.id = ANY($3::text[]) AND ${inQueuedDays("d")})`)}, due AS MATERIALIZED (
       SELECT d.id, d."endpointId", d."nextAttemptAt", d.attempts, d."maxAttempts", e.quota,
              row_number() OVER (PARTITION BY d."endpointId" ORDER BY d."nextAttemptAt") AS rank
       FROM "Delivery" d JOIN endpoints e ON e.id = d."endpointId" AND e.quota > 0
       WHERE d.id = ANY($3::text[]) AND ${isDue}
     )`
    : // New deliveries (pending) endpoint by endpoint, off Delivery_fresh_idx (endpointId,
      // nextAttemptAt): the endpoints with any, found by one index probe each (a loose index
      // scan); then each endpoint that may take more gives its oldest due ones, up to its quota
      // and one more, which tells whether it had more. An endpoint that may take nothing is not
      // read: in one global nextAttemptAt order, every claim read past a hanging endpoint's
      // whole backlog. Retries (every queued row that is not pending) come in nextAttemptAt order
      // off Delivery_retry_idx instead: endpoints that only wait for a retry would otherwise
      // each cost every claim a probe (5 µs apiece, `npm run bench:statements`). Parked rows
      // (lib/webhooks/delivery/backlog.ts) are in neither scan.
      `WITH RECURSIVE fresh(id) AS (
       (SELECT d."endpointId" FROM "Delivery" d WHERE ${isFresh} ORDER BY d."endpointId" LIMIT 1)
       UNION ALL
       SELECT (SELECT d."endpointId" FROM "Delivery" d
               WHERE ${isFresh} AND d."endpointId" > q.id
               ORDER BY d."endpointId" LIMIT 1)
       FROM fresh q WHERE q.id IS NOT NULL
     ), retries AS MATERIALIZED (${retries ? `
       SELECT d.id, d."endpointId", d."nextAttemptAt", d.attempts, d."maxAttempts"
       FROM "Delivery" d
       WHERE d.status <> 'pending' AND d."nextAttemptAt" IS NOT NULL AND ${isDue}
         -- Not the retries of endpoints that can take none now (at their in-flight cap here,
         -- or at their delivery cap this minute): in time order, those at the front would fill
         -- the scan's limit, claim after claim, and hold back every other endpoint's retries.
         -- A subquery per row, not a join: joined, the planner could start from the endpoints and
         -- read each one's whole history through another index.
         AND (SELECT ${sendable("x")} AND ${quotaOf("x")} > 0 FROM "WebhookEndpoint" x WHERE x.id = d."endpointId")
       ORDER BY d."nextAttemptAt"
       LIMIT $4` : `
       -- None queued when the days were read (recentQueuedDays): planning the scan was a fifth
       -- of the claim's planning.
       SELECT NULL::text AS id, NULL::text AS "endpointId", NULL::timestamp AS "nextAttemptAt", NULL::int AS attempts,
              NULL::int AS "maxAttempts" WHERE false`}
     ), ${room(`(SELECT id FROM fresh WHERE id IS NOT NULL UNION SELECT "endpointId" FROM retries)`)}, due AS MATERIALIZED (
       SELECT *, row_number() OVER (PARTITION BY "endpointId" ORDER BY "nextAttemptAt") AS rank
       FROM (
         SELECT d.*, e.quota
         FROM endpoints e CROSS JOIN LATERAL (
           SELECT d.id, d."endpointId", d."nextAttemptAt", d.attempts, d."maxAttempts"
           FROM "Delivery" d
           WHERE d."endpointId" = e.id AND ${isFresh} AND ${isDue}
           ORDER BY d."nextAttemptAt"
           -- At most twice its even share of the claim: ten endpoints with a backlog each had
           -- given a claim of 26 up to 27 rows apiece. A claim cut short this way is not "drained"
           -- (the extra row), so the next follows at once.
           LIMIT LEAST(e.quota, ceil(2.0 * $4 / NULLIF((SELECT count(*) FROM endpoints WHERE quota > 0), 0))::int) + 1
         ) d
         -- ($3, the ids, is null on this path; PostgreSQL needs every parameter's type.)
         WHERE e.quota > 0 AND $3::text[] IS NULL
         UNION ALL
         SELECT r.*, e.quota FROM retries r JOIN endpoints e ON e.id = r."endpointId" AND e.quota > 0
       ) queued
     )`;
  // The claim's first statement chooses; the second (TAKE_SQL) takes.
  const choose = (retries: boolean) => `${head(retries)}, candidates AS (
       -- The oldest due rows within each endpoint's quota, up to the claim's limit.
       SELECT id, attempts, "maxAttempts", "nextAttemptAt" FROM due
       WHERE rank <= quota
       ORDER BY "nextAttemptAt"
       LIMIT $4
     )
     -- One row at least: it carries how many due rows were read.
     SELECT c.id, c.attempts, c."maxAttempts", (SELECT count(*) FROM due)::int AS "dueSeen"
     FROM (SELECT 1) one LEFT JOIN candidates c ON true
     ORDER BY c."nextAttemptAt"`;
  // Choosing is not named (lib/db.ts): planned on every call, for the tables as they are. A
  // cached plan made while Delivery was near empty read all of it, 24 ms per claim on average over
  // a 30 s storm (800 million rows for one claim in lib/webhooks/delivery/plans.test.ts). Planned
  // for the queued days alone, the whole claim's planning cost 2.2 ms of PostgreSQL's CPU per claim
  // against 3.7 for every day partition (BENCH_ONLY=dispatch, five partitions; a database in
  // production has seven). A generic plan held to index scans in order (enable_seqscan and
  // enable_sort off, as for the take) was tried as well: not knowing the days, it found the
  // endpoints with new deliveries through (endpointId, createdAt) and read past each one's
  // delivered rows, 20,000 a claim in a 20,000-delivery drain. With the recording's tried the same
  // way (record.ts), dispatch's PostgreSQL CPU per delivery went from 54 to 108-121 µs.
  const legacyEnd = await legacyHistoryEnd(pool);
  const result = await inTransaction(pool, async (client) => {
    // Each endpoint's oldest due rows taken off the index in order, never its queue sorted: a
    // plan made on statistics that say a day is empty sorted every queued row of it, once per
    // endpoint (lib/webhooks/delivery/plans.test.ts).
    await client.query("SET LOCAL enable_sort = off");
    // Given ids (an immediate kick, a handful) may be a redelivery of any day: read afresh.
    const days = await recentQueuedDays(pool, client, options.now !== null || options.ids !== undefined);
    if (!days) return null;
    const chosen = await client.query<{ id: string | null; attempts: number; maxAttempts: number; dueSeen: number }>(choose(days.retries), [
      options.now?.toISOString() ?? null,
      [...options.inFlight.keys()],
      options.ids ?? null,
      options.limit,
      options.perEndpoint,
      [...options.inFlight.values()],
      days.first,
      days.last,
    ]);
    const candidates = chosen.rows.filter((row) => row.id !== null);
    const dueSeen = chosen.rows[0]!.dueSeen;
    if (candidates.length === 0) return { deliveries: [], dueSeen, exhaustedTeams: [] };
    const givenUp = (c: (typeof candidates)[number]) => c.attempts >= c.maxAttempts;
    await client.query(TAKE_SETTINGS);
    const taken = await client.query<Taken>(
      namedStatement(TAKE_SQL, [
        options.now?.toISOString() ?? null,
        candidates.filter((c) => !givenUp(c)).map((c) => c.id),
        candidates.filter(givenUp).map((c) => c.id),
        options.leaseMs,
        EXHAUSTED_REASON,
        legacyEnd,
        days.first,
        days.last,
      ]),
    );
    // In the order chosen: each endpoint's oldest first.
    const order = new Map(candidates.map((c, i) => [c.id, i]));
    const deliveries = deliveriesOf(taken.rows).sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    return { deliveries, dueSeen, exhaustedTeams: taken.rows[0]!.exhaustedTeams };
  });
  if (!result) return { deliveries: [], drained: true, exhaustedTeams: [] };
  const { deliveries } = result;
  // Every due row read was taken: nothing more is due that this process could take now. Rows
  // past an endpoint's quota (each endpoint reads one more), past the claim's limit, locked by
  // another worker or at the attempt cap mean more is waiting; so does a claim that took none of
  // the rows it chose (another worker was taking them): Dispatcher.drain() claims again shortly.
  const drained = deliveries.length === result.dueSeen;
  return { deliveries, drained, exhaustedTeams: result.exhaustedTeams };
}

/**
 * Renews the leases of deliveries a live process still holds (claimed at attempt `held.get(id)`,
 * outcome not written yet). Only where that claim is still the row's latest and unfinished; rows
 * locked right now (their outcome being written) are skipped rather than waited for, and locked
 * in id order, as claims and recordings lock them, so a renewal never deadlocks with either.
 */
export async function extendLeases(pool: pg.Pool, options: { now: Date | null; leaseMs: number; held: ReadonlyMap<string, number> }): Promise<number> {
  return inTransaction(pool, async (client) => {
    await client.query(TAKE_SETTINGS);
    const result = await client.query(
      namedStatement(RENEW_SQL, [options.now?.toISOString() ?? null, [...options.held.keys()], [...options.held.values()], options.leaseMs]),
    );
    return result.rowCount ?? 0;
  });
}

/**
 * extendLeases()'s statement, taken by key as the take is (TAKE_SETTINGS). The held rows are found
 * by the id list alone, each checked against its attempt by its place in the list: joined to the
 * list, and planned on a storm's stale statistics, a renewal read Delivery twice from end to end
 * (35-65 ms of PostgreSQL for 96 held rows beside the bench's hanging endpoint), and with the list
 * as a condition beside the join, each of its 96 probes searched the index for all 96 ids. The
 * update takes what was locked the same way, as a list, not a join.
 */
const RENEW_SQL = `WITH renew AS (
       SELECT d.id FROM "Delivery" d
       WHERE d.id = ANY($2::text[]) AND d.attempts = ($3::int[])[array_position($2::text[], d.id)]
         AND d."leaseExpiresAt" IS NOT NULL AND d."nextAttemptAt" IS NOT NULL
       ORDER BY d.id
       FOR NO KEY UPDATE OF d SKIP LOCKED
     )
     UPDATE "Delivery" d SET "leaseExpiresAt" = ${NOW} + make_interval(secs => $4::double precision / 1000)
     WHERE d.id = ANY(ARRAY(SELECT id FROM renew))`;
