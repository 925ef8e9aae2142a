// Fixed-window counters in PostgreSQL, so every web instance and worker sees the same
// numbers. One limiter serves sign-in, validation, test sends and the alert API.
import type pg from "pg";
import { db, dbNow } from "@/lib/db";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";

/**
 * `shards`: count in that many rows chosen at random and sum them, for limits hit by many
 * requests at once. A single counter row is a lock every request of the key queues on until
 * its transaction commits (the alert API during a storm). Each shard keeps its own window.
 */
export type Limit = { key: string; limit: number; windowSeconds: number; shards?: number };

/** Every counter row of a limit: its key, or its shards' keys. */
export const counterKeys = (limit: Limit) =>
  (limit.shards ?? 1) > 1 ? Array.from({ length: limit.shards! }, (_, i) => `${limit.key}#${i}`) : [limit.key];

/** The row this event counts in: a random shard of a sharded limit. */
export const counterKey = (limit: Limit) => (counterKeys(limit).length > 1 ? `${limit.key}#${Math.floor(Math.random() * limit.shards!)}` : limit.key);
export type LimitState = { allowed: boolean; count: number; retryAfterSeconds: number };

export function limitState(limit: Limit, count: number, windowStart: Date, now: Date): LimitState {
  const windowEnds = windowStart.getTime() + limit.windowSeconds * 1000;
  return {
    allowed: count <= limit.limit,
    count,
    retryAfterSeconds: Math.max(1, Math.ceil((windowEnds - now.getTime()) / 1000)),
  };
}

/**
 * Counting events against limits, the one copy of the rule: the CTEs `counted` (the caller's
 * query: one row per counter row to count in, with columns key, n (events to count there),
 * "windowSeconds" and keys (every shard of its limit)), `limited` (each counter row after the
 * count: key, count, windowStart) and `total` (per key: its count plus the other shards' in their
 * windows, and windowStart). A window that is over starts again at `now`. Counter rows are taken
 * in key order, so statements that count in several never wait on each other in a circle. The
 * alert API's group statement (lib/alerts/fast-ingest.ts) inlines the same text.
 */
export const countEventsSql = (p: { counted: string; now: string }) => `counted AS (
  ${p.counted}
), limited AS (
  INSERT INTO "RateLimit" AS r (key, count, "windowStart")
  SELECT c.key, c.n, ${p.now} FROM counted c ORDER BY c.key
  ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN r."windowStart" <= ${p.now} - make_interval(secs => (SELECT c."windowSeconds" FROM counted c WHERE c.key = EXCLUDED.key))
                 THEN EXCLUDED.count ELSE r.count + EXCLUDED.count END,
    "windowStart" = CASE WHEN r."windowStart" <= ${p.now} - make_interval(secs => (SELECT c."windowSeconds" FROM counted c WHERE c.key = EXCLUDED.key))
                 THEN ${p.now} ELSE r."windowStart" END
  RETURNING r.key, r.count, r."windowStart"
), total AS MATERIALIZED (
  -- A sharded limit: this shard's count plus the others' in their windows. Materialized: inlined
  -- into a group statement's join, the other shards were summed again for each of its alerts.
  SELECT l.key, l."windowStart", l.count + COALESCE((
           SELECT sum(o.count)::int FROM "RateLimit" o
           WHERE o.key = ANY(c.keys) AND o.key <> l.key
             AND o."windowStart" > ${p.now} - make_interval(secs => c."windowSeconds")), 0) AS count
  FROM limited l JOIN counted c ON c.key = l.key
)`;

const HIT_SQL = `WITH ${countEventsSql({ counted: `SELECT $1::text AS key, 1 AS n, $3::int AS "windowSeconds", $2::text[] AS keys`, now: "($4::timestamptz AT TIME ZONE 'UTC')" })}
SELECT count, "windowStart" FROM total`;

/** Counts one event against the limit and says whether it is still within it. */
export async function hit(limit: Limit, now = new Date()): Promise<LimitState> {
  const rows = await db.$queryRawUnsafe<{ count: number; windowStart: Date }[]>(HIT_SQL, counterKey(limit), counterKeys(limit), limit.windowSeconds, now.toISOString());
  const row = rows[0]!;
  return limitState(limit, row.count, row.windowStart, now);
}

/**
 * Counts one event against several limits in one statement, before the work they guard:
 * concurrent callers each see their own count, so a limit holds under parallel requests.
 */
export async function hitAll(limitsToCount: Limit[], now = new Date()): Promise<LimitState[]> {
  const rows = await db.$queryRawUnsafe<{ key: string; count: number; windowStart: Date }[]>(
    HIT_ALL_SQL,
    limitsToCount.map((limit) => limit.key),
    limitsToCount.map((limit) => limit.windowSeconds),
    now.toISOString(),
  );
  const byKey = new Map(rows.map((row) => [row.key, row]));
  return limitsToCount.map((limit) => {
    const row = byKey.get(limit.key)!;
    return limitState(limit, row.count, row.windowStart, now);
  });
}

const HIT_ALL_SQL = `WITH ${countEventsSql({ counted: `SELECT x.key, 1 AS n, x.seconds AS "windowSeconds", ARRAY[x.key] AS keys FROM unnest($1::text[], $2::int[]) AS x(key, seconds)`, now: "($3::timestamptz AT TIME ZONE 'UTC')" })}
SELECT key, count, "windowStart" FROM total`;

/** Gives back one counted event (a sign-in that turned out right is not a failure). */
export async function refund(limit: Limit) {
  await db.$executeRaw`UPDATE "RateLimit" SET count = GREATEST(count - 1, 0) WHERE key = ${limit.key}`;
}

/** Whether one more event would be allowed, without counting it. */
export async function peek(limit: Limit, now = new Date()): Promise<LimitState> {
  const row = await db.rateLimit.findUnique({ where: { key: limit.key } });
  if (!row || row.windowStart.getTime() <= now.getTime() - limit.windowSeconds * 1000) {
    return { allowed: true, count: 0, retryAfterSeconds: 0 };
  }
  return limitState(limit, row.count + 1, row.windowStart, now);
}

export async function resetLimit(key: string) {
  await db.rateLimit.deleteMany({ where: { key } });
}

export function describeWait(seconds: number) {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  if (seconds <= 2 * 3600) {
    const minutes = Math.ceil(seconds / 60);
    return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  }
  const hours = Math.ceil(seconds / 3600);
  return `${hours} hours`;
}

function describeWindow(seconds: number) {
  if (seconds === 60) return "minute";
  if (seconds === 3600) return "hour";
  if (seconds === 86400) return "day";
  return describeWait(seconds);
}

/** The 429 for an event over `limit`, saying when to try again. */
export function rateLimited(limit: Limit, what: string, state: LimitState) {
  return new AppError(
    "rate_limited",
    `Too many ${what}: the limit is ${limit.limit} per ${describeWindow(limit.windowSeconds)}. Try again in ${describeWait(state.retryAfterSeconds)}.`,
    undefined,
    state.retryAfterSeconds,
  );
}

/** Counts the event; throws a rate_limited AppError with a clear message when over. */
export async function enforce(limit: Limit, what: string, now = new Date()) {
  const state = await hit(limit, now);
  if (!state.allowed) throw rateLimited(limit, what, state);
}

export const limits = {
  signInByEmail: (email: string): Limit => ({ key: `signin:email:${email}`, limit: 5, windowSeconds: 15 * 60 }),
  signInByIp: (ip: string): Limit => ({ key: `signin:ip:${ip}`, limit: 20, windowSeconds: 15 * 60 }),
  validationPerEndpoint: (endpointId: string): Limit => ({ key: `validate:endpoint:${endpointId}`, limit: 10, windowSeconds: 60 * 60 }),
  validationPerTeam: (teamId: string): Limit => ({ key: `validate:team:${teamId}`, limit: 100, windowSeconds: 60 * 60 }),
  testSendPerEndpoint: (endpointId: string): Limit => ({ key: `test:endpoint:${endpointId}`, limit: 10, windowSeconds: 60 }),
  redeliverPerEndpoint: (endpointId: string): Limit => ({ key: `redeliver:endpoint:${endpointId}`, limit: 30, windowSeconds: 60 }),
  alertApiPerKey: (apiKeyId: string): Limit => ({ key: `api:key:${apiKeyId}`, limit: env().MON1TOR_API_KEY_RATE_PER_MINUTE, windowSeconds: 60, shards: 16 }),
  /** `mon1tor listen` connecting (and reconnecting): a CLI in a reconnect loop stays polite. */
  relayConnectPerKey: (apiKeyId: string): Limit => ({ key: `relay:key:${apiKeyId}`, limit: 30, windowSeconds: 60 }),
  secretRollPerEndpoint: (endpointId: string): Limit => ({ key: `roll:endpoint:${endpointId}`, limit: 5, windowSeconds: 24 * 3600 }),
};

/**
 * The longest window of any limit: a row whose window started before that is dead. Worked out
 * when purging, not at import: building a limit can read the environment (the API's limit is
 * configurable), and `next build` imports this module without the runtime secrets.
 */
const longestWindowSeconds = () => Math.max(...Object.values(limits).map((limitFor) => limitFor("").windowSeconds));

/** Deletes counters whose window is over, so the table stays as small as the live windows. */
export async function purgeExpiredRateLimits(pool: pg.Pool, now: Date | null = null): Promise<number> {
  const result = await pool.query(
    `DELETE FROM "RateLimit" WHERE "windowStart" < ${dbNow(1)} - make_interval(secs => $2)`,
    [now?.toISOString() ?? null, longestWindowSeconds()],
  );
  return result.rowCount ?? 0;
}
