// Claiming due deliveries: FOR UPDATE SKIP LOCKED, and the claim itself sets a lease
// (leaseExpiresAt) and counts the attempt. A worker that dies leaves its deliveries to be
// claimed again when the lease runs out. The claim leaves nextAttemptAt alone: it writes no
// indexed column, so PostgreSQL can update the row in place (a HOT update, with room kept
// free on Delivery's pages) instead of adding an entry to each of its six indexes. Time is PostgreSQL's own
// (`now()`), so clock skew between machines cannot make two workers hold one delivery;
// tests may pass an explicit time instead.
import type pg from "pg";
import { namedStatement } from "@/lib/db";

export type Claimed = {
  id: string;
  /** This attempt's number (1-based): the claim already counted it. */
  attempts: number;
  maxAttempts: number;
  endpointId: string;
  url: string;
  secretCiphertext: string;
  /** The rolled-away secret while its overlap lasts, else null. */
  previousSecretCiphertext: string | null;
  customHeadersCiphertext: string | null;
  body: string;
  /** Already failed before: a further failure is not a new failed delivery. */
  wasRetrying: boolean;
};

export const EXHAUSTED_REASON = "gave up: every allowed attempt was made, and the last one's result was never recorded";

/** The time a statement runs at: the explicit one (tests), else the database's clock. */
export const dbNow = (index: number) => `(COALESCE($${index}::timestamptz, now()) AT TIME ZONE 'UTC')`;

export async function claimDeliveries(
  pool: pg.Pool,
  options: {
    now: Date | null;
    limit: number;
    leaseMs: number;
    /** Endpoints already at their in-flight cap in this process. */
    saturated: string[];
    perEndpoint: number;
    ids?: string[];
  },
): Promise<{ deliveries: Claimed[]; drained: boolean }> {
  const now = dbNow(1);
  // Due rows read per claim: room for per-endpoint quotas to pass over some.
  const dueLimit = options.limit * 4;
  const minute = `date_trunc('minute', ${now})`;
  // In flight with another worker (or with this one) until the lease runs out.
  const unleased = `(d."leaseExpiresAt" IS NULL OR d."leaseExpiresAt" <= ${now})`;
  // Given ids (the API's immediate kick), look them up by primary key: walking the
  // nextAttemptAt index past every other due row (and every dead entry of the last minutes'
  // deliveries) for a handful of ids made each kick slow under load.
  const byIds = options.ids ? `d.id = ANY($3::text[]) AND` : `$3::text[] IS NULL AND`;
  // Rows at their attempt cap are never sent again: the same statement marks them failed.
  // An endpoint with a delivery cap (deliveryRateCap per minute) gets at most what is left
  // of its current minute; the rest stay due and wait, they are never dropped.
  const text = `WITH due AS MATERIALIZED (
       -- The due rows in nextAttemptAt order, straight off its index, stopping at the limit, once.
       -- (Joined to the endpoints, the planner read every due row of every endpoint and sorted
       -- them, or re-ran this per endpoint: half of a claim's time with 20,000 due.) Inactive
       -- endpoints' rows are parked, never due.
       SELECT d.id, d."endpointId", d."nextAttemptAt", d.attempts, d."maxAttempts"
       FROM "Delivery" d
       WHERE ${byIds} d."nextAttemptAt" <= ${now} AND ${unleased} AND NOT (d."endpointId" = ANY($2::text[]))
         -- Per endpoint and alert, in order: never a newer state while an older one is unfinished.
         -- An alert's first event (most of a storm) has nothing older: no lookup.
         AND (d."alertId" IS NULL OR d.sequence <= 1 OR NOT EXISTS (
           SELECT 1 FROM "Delivery" o
           WHERE o."endpointId" = d."endpointId" AND o."alertId" = d."alertId" AND o.sequence < d.sequence AND o."nextAttemptAt" IS NOT NULL))
       ORDER BY d."nextAttemptAt"
       LIMIT $4
     ), candidates AS (
       SELECT d.id, d."endpointId", d."nextAttemptAt", d.attempts, d."maxAttempts",
              CASE WHEN e."deliveryRateCap" IS NULL THEN $5
                   ELSE LEAST($5, e."deliveryRateCap" - CASE WHEN e."rateWindowStart" = ${minute} THEN e."rateWindowCount" ELSE 0 END)
              END AS quota
       FROM due d JOIN "WebhookEndpoint" e ON e.id = d."endpointId" AND e.status = 'active'
     ), exhausted AS (
       UPDATE "Delivery" d
       SET status = 'failed', "nextAttemptAt" = NULL, "leaseExpiresAt" = NULL, "lastError" = $8, "updatedAt" = ${now}
       FROM candidates c
       WHERE d.id = c.id AND c.attempts >= c."maxAttempts" AND d.attempts >= d."maxAttempts" AND d."nextAttemptAt" IS NOT NULL
       RETURNING d.id
     ), ranked AS (
       SELECT id, quota, row_number() OVER (PARTITION BY "endpointId" ORDER BY "nextAttemptAt") AS rank
       FROM candidates WHERE attempts < "maxAttempts"
     ), picked AS (
       SELECT d.id, d."endpointId" FROM "Delivery" d JOIN ranked r ON r.id = d.id
       -- Checked again on the row as locked: another worker may have claimed it meanwhile.
       WHERE r.rank <= r.quota AND d."nextAttemptAt" <= ${now} AND ${unleased} AND d.attempts < d."maxAttempts"
       LIMIT $6
       FOR NO KEY UPDATE OF d SKIP LOCKED
     ), capped AS (
       -- Locked in id order, as the failure policy does, so claims and recordings never deadlock.
       SELECT e.id FROM "WebhookEndpoint" e
       WHERE e."deliveryRateCap" IS NOT NULL AND e.id IN (SELECT "endpointId" FROM picked)
       ORDER BY e.id
       FOR NO KEY UPDATE OF e
     ), counted AS (
       UPDATE "WebhookEndpoint" e
       SET "rateWindowCount" = CASE WHEN e."rateWindowStart" = ${minute} THEN e."rateWindowCount" ELSE 0 END + c.claimed,
           "rateWindowStart" = ${minute}
       FROM (SELECT p."endpointId" AS id, count(*) AS claimed FROM picked p JOIN capped ON capped.id = p."endpointId" GROUP BY 1) c
       WHERE e.id = c.id
     )
     UPDATE "Delivery" d
     SET "leaseExpiresAt" = ${now} + make_interval(secs => $7::double precision / 1000),
         attempts = d.attempts + 1, "updatedAt" = ${now}
     FROM picked, "Event" ev, "WebhookEndpoint" e
     WHERE d.id = picked.id AND ev.id = d."eventId" AND e.id = d."endpointId"
     RETURNING d.id, d.attempts, d."maxAttempts", d."endpointId", e.url, e."secretCiphertext",
               CASE WHEN e."previousSecretExpiresAt" > ${now} THEN e."previousSecretCiphertext" END AS "previousSecretCiphertext",
               e."customHeadersCiphertext", ev.body,
               d.status = 'retrying' AS "wasRetrying",
               (SELECT count(*) FROM due)::int AS "dueSeen"`;
  // Named, so PostgreSQL plans it once per connection (lib/db.ts).
  const result = await pool.query<Claimed & { dueSeen: number }>(
    namedStatement(text, [
      options.now?.toISOString() ?? null,
      options.saturated,
      options.ids ?? null,
      dueLimit,
      options.perEndpoint,
      options.limit,
      options.leaseMs,
      EXHAUSTED_REASON,
    ]),
  );
  const deliveries = result.rows.map(({ dueSeen: _, ...delivery }) => delivery);
  // Every due row the scan saw was taken (the scan stops at dueLimit, above the claim's
  // limit): nothing more is due right now. Rows left to per-endpoint quotas, to another
  // worker's lock or to the attempt cap mean more is waiting.
  return { deliveries, drained: deliveries.length === (result.rows[0]?.dueSeen ?? 0) };
}
