// The alert API's storm path: a new alert in one statement, one round trip on the shared
// pg pool. It counts the request against the key's rate limit (in one of its 16 shards, so
// concurrent requests of one key do not queue on a single counter row), claims the Idempotency-Key,
// inserts the alert (the open-alert dedup index decides between concurrent triggers), its
// event and one delivery per matching active endpoint. All of it commits together or not at
// all, exactly like the transaction in ingest.ts. The caller wakes the workers after the
// commit (lib/webhooks/delivery/wake.ts): a NOTIFY in this statement serialized every ingest commit.
//
// Requests whose answer depends on an existing alert (a resolved state for a dedupKey, or a
// dedupKey together with an Idempotency-Key) take the general path, ingestAlert in a
// transaction: they need to read that alert first.
import type pg from "pg";
import { namedStatement, pool } from "@/lib/db";
import { AppError, isDatabaseUnavailable } from "@/lib/errors";
import { alertFields, alertPayload, newAlertId, type AlertInput } from "@/lib/alerts/ingest";
import { counterKey, counterKeys, countEventSql, limitState, type Limit, type LimitState } from "@/lib/rate-limit";
import { currentTraceparent } from "@/lib/telemetry/tracing";
import { NEW_DELIVERY_ID_SQL, newEventId, serializeEnvelope } from "@/lib/webhooks/delivery/envelope";
import { takesEventSql } from "@/lib/webhooks/endpoints/filters";

/** Whether `fastIngest` can answer this request without reading an existing alert. */
export const fastPathApplies = (input: AlertInput, idempotencyKey: string | null) =>
  !input.dedupKey || (input.status === "triggered" && idempotencyKey === null);

export type FastResult =
  | { kind: "accepted"; alertId: string; eventId: string; deliveryIds: string[] }
  | { kind: "deduplicated"; alertId: string }
  | { kind: "rate_limited"; state: LimitState }
  /** The Idempotency-Key was used before: the caller replays the stored answer. */
  | { kind: "replay" };

const SQL = `
WITH ${countEventSql({ key: "$1::text", keys: "$20::text[]", windowSeconds: "$2::int", now: "($3::timestamptz AT TIME ZONE 'UTC')" })},
targets AS (
  SELECT e.id FROM "WebhookEndpoint" e
  WHERE e."teamId" = $5::text AND e.status = 'active'
    AND ${takesEventSql("e", { type: "$9::text", severity: "$11::text", monitorId: "$15::text" })}
), allowed AS (
  SELECT (SELECT count FROM total) <= $4::int AS ok
), claimed AS (
  INSERT INTO "IdempotencyRecord" ("teamId", key, "requestHash", response, "createdAt")
  SELECT $5::text, $6::text, $7::text, jsonb_build_object('id', $8::text, 'eventId', $10::text, 'deliveriesQueued', (SELECT count(*) FROM targets), 'deduplicated', false),
         $3::timestamptz AT TIME ZONE 'UTC'
  FROM allowed WHERE allowed.ok AND $6::text IS NOT NULL
  ON CONFLICT DO NOTHING
  RETURNING 1
), go AS (
  SELECT allowed.ok AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM claimed)) AS ok FROM allowed
), alert AS (
  INSERT INTO "Alert" (id, "teamId", title, severity, status, message, "monitorId", "monitorName", "dedupKey", "startedAt", "resolvedAt",
                       "lastSequence", "lastEventId", "createdAt")
  SELECT $8::text, $5::text, $12::text, $11::text::"Severity", $13::text::"AlertStatus", $14::text, $15::text, $16::text, $17::text,
         $18::timestamptz AT TIME ZONE 'UTC', CASE WHEN $13::text = 'resolved' THEN $18::timestamptz AT TIME ZONE 'UTC' END,
         1, $10::text, $3::timestamptz AT TIME ZONE 'UTC'
  FROM go WHERE go.ok
  ON CONFLICT ("teamId", "dedupKey") WHERE status = 'triggered' AND "dedupKey" IS NOT NULL DO NOTHING
  RETURNING id
), event AS (
  INSERT INTO "Event" (id, "teamId", type, "alertId", sequence, body, traceparent, "createdAt")
  SELECT $10::text, $5::text, $9::text, alert.id, 1, $19::text, $21::text, $3::timestamptz AT TIME ZONE 'UTC' FROM alert
  RETURNING id
), deliveries AS (
  INSERT INTO "Delivery" (id, "teamId", "endpointId", "eventId", "alertId", sequence, "nextAttemptAt", "createdAt", "updatedAt")
  SELECT ${NEW_DELIVERY_ID_SQL}, $5::text, t.id, event.id, $8::text, 1, $3::timestamptz AT TIME ZONE 'UTC', $3::timestamptz AT TIME ZONE 'UTC', $3::timestamptz AT TIME ZONE 'UTC'
  FROM targets t, event
  RETURNING id
)
SELECT (SELECT count FROM total) AS "limitCount", (extract(epoch FROM (SELECT "windowStart" FROM limited)) * 1000)::float8 AS "windowStartMs",
       (SELECT ok FROM allowed) AS allowed, (SELECT ok FROM go) AS go, EXISTS (SELECT 1 FROM alert) AS inserted,
       ARRAY(SELECT id FROM deliveries) AS "deliveryIds"`;

type Row = { limitCount: number; windowStartMs: number; allowed: boolean; go: boolean; inserted: boolean; deliveryIds: string[] };

export async function fastIngest(
  team: { id: string; name: string },
  input: AlertInput,
  options: { limit: Limit; idempotency: { key: string; hash: string } | null; now?: Date; admitted?: boolean },
): Promise<FastResult> {
  const now = options.now ?? new Date();
  const at = input.occurredAt ? new Date(input.occurredAt) : now;
  const alertId = newAlertId();
  const eventId = newEventId();
  const type = input.status === "resolved" ? "alert.resolved" : "alert.triggered";
  const body = serializeEnvelope({
    id: eventId,
    type,
    createdAt: now,
    team,
    alert: alertPayload({ id: alertId, ...alertFields(input, at) }, { sequence: 1, previousEventId: null }),
  });
  const row = await groupCommit.submit(options.admitted ?? false, [
    counterKey(options.limit),
    options.limit.windowSeconds,
    now.toISOString(),
    options.limit.limit,
    team.id,
    options.idempotency?.key ?? null,
    options.idempotency?.hash ?? null,
    alertId,
    type,
    eventId,
    input.severity,
    input.title,
    input.status,
    input.message ?? null,
    input.monitor?.id ?? null,
    input.monitor?.name ?? null,
    input.dedupKey ?? null,
    at.toISOString(),
    body,
    counterKeys(options.limit),
    currentTraceparent(),
  ]);
  if (!row.allowed) {
    return { kind: "rate_limited", state: limitState(options.limit, row.limitCount, new Date(row.windowStartMs), now) };
  }
  if (!row.go) return { kind: "replay" };
  if (row.inserted) return { kind: "accepted", alertId, eventId, deliveryIds: row.deliveryIds };
  // The dedup index refused it: an alert with this dedupKey is open (it waited for that commit).
  const open = await pool.query<{ id: string }>(`SELECT id FROM "Alert" WHERE "teamId" = $1 AND "dedupKey" = $2 AND status = 'triggered'`, [team.id, input.dedupKey]);
  return { kind: "deduplicated", alertId: open.rows[0]?.id ?? "" };
}

/** A call refused before anything was written: this process has more ingest waiting than it commits in a second. */
export const overloaded = () =>
  new AppError("unavailable", "mon1tor is taking in more alerts than it can store right now. Nothing of this request was stored; retry after the delay given in Retry-After.", undefined, 1);

type Pending = { values: unknown[]; queuedAt: number; resolve: (row: Row) => void; reject: (error: unknown) => void };

/**
 * Group commit. Alerts that arrive together in this process are written together: one
 * transaction, so one WAL flush, for up to MAX_GROUP of them, each by the same statement (so
 * every per-alert rule, idempotency, dedup, rate limit, filters, holds inside a group exactly as
 * alone). A group goes out when a connection is free and its first alert has waited WAIT_MS, or
 * at once when it is full; a 202 is answered only after the group's COMMIT. One alert's error
 * aborts its transaction, so the group is then written again one alert at a time: an error
 * reaches only its own caller.
 *
 * Overload: when the alerts waiting here are more than this process committed in the last second
 * (or one has waited longer than MAX_QUEUE_MS before its group started), the call is refused at
 * once with a 503 and Retry-After, before anything is written, instead of queueing for a minute.
 */
export class GroupCommit {
  static readonly WAIT_MS = 2;
  static readonly MAX_GROUP = 100;
  static readonly MAX_QUEUE_MS = 1_000;
  private queue: Pending[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Alerts committed per second, smoothed; starts generous so a cold process is not refused. */
  private rate = 2_000;
  private lastRateAt = performance.now();
  private committedSinceRate = 0;

  constructor(
    private readonly pool: pg.Pool,
    readonly statement: string,
    private readonly maxGroups = 4,
    /** Rewrites a group's parameter lists before it is written (which rate-limit rows it takes). */
    private readonly prepare: (values: unknown[][]) => unknown[][] = (values) => values,
  ) {}

  /** More alerts wait here than this process committed in the last second. */
  get overloaded() {
    this.updateRate();
    return this.queue.length >= Math.max(GroupCommit.MAX_GROUP, this.rate);
  }

  /** `admitted`: a batch's item, whose call was already let in as a whole. */
  submit(admitted: boolean, values: unknown[]): Promise<Row> {
    if (!admitted && this.overloaded) return Promise.reject(overloaded());
    return new Promise<Row>((resolve, reject) => {
      this.queue.push({ values, queuedAt: performance.now(), resolve, reject });
      this.schedule();
    });
  }

  private updateRate() {
    const now = performance.now();
    const elapsed = now - this.lastRateAt;
    if (elapsed < 1_000) return;
    const measured = (this.committedSinceRate * 1_000) / elapsed;
    // Only while busy: an idle second says nothing of what the database can take.
    if (this.committedSinceRate > 0 || this.queue.length > 0) this.rate = Math.max(50, 0.5 * this.rate + 0.5 * measured);
    this.committedSinceRate = 0;
    this.lastRateAt = now;
  }

  private schedule() {
    if (this.running >= this.maxGroups || this.queue.length === 0) return;
    if (this.queue.length >= GroupCommit.MAX_GROUP) return void this.start();
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.start();
    }, GroupCommit.WAIT_MS);
  }

  private start() {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.running >= this.maxGroups || this.queue.length === 0) return;
    const now = performance.now();
    // Waited too long already: refused unwritten, so a retry with the same Idempotency-Key is safe.
    while (this.queue.length > 0 && now - this.queue[0]!.queuedAt > GroupCommit.MAX_QUEUE_MS) this.queue.shift()!.reject(overloaded());
    const group = this.queue.splice(0, GroupCommit.MAX_GROUP);
    if (group.length === 0) return;
    this.running += 1;
    void this.write(group).finally(() => {
      this.running -= 1;
      this.committedSinceRate += group.length;
      this.schedule();
    });
    this.schedule();
  }

  private async write(group: Pending[]) {
    if (group.length === 1) return this.alone(group[0]!);
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    let rows: Row[] | null = null;
    let failure: unknown = null;
    const values = this.prepare(group.map((item) => item.values));
    // Row locks in one order across groups (by the first parameter, the rate-limit row); a stable
    // sort, so the alerts of one key keep the order they came in.
    const order = values.map((_, i) => i).sort((a, b) => (String(values[a]![0]) < String(values[b]![0]) ? -1 : String(values[a]![0]) > String(values[b]![0]) ? 1 : a - b));
    try {
      await client.query("BEGIN");
      rows = new Array(group.length);
      // Named, so PostgreSQL plans it once per connection (lib/db.ts).
      for (const i of order) rows[i] = (await client.query<Row>(namedStatement(this.statement, values[i]!))).rows[0]!;
      await client.query("COMMIT");
    } catch (error) {
      failure = error;
      await client.query("ROLLBACK").catch(() => {});
    } finally {
      client.release(failure instanceof Error && isDatabaseUnavailable(failure) ? failure : undefined);
    }
    if (!failure) return group.forEach((item, i) => item.resolve(rows![i]!));
    // The database is away: every caller gets the 503. Otherwise one alert failed the group: alone, each gets its own answer.
    if (isDatabaseUnavailable(failure)) return group.forEach((item) => item.reject(failure));
    await Promise.all(group.map((item) => this.alone(item)));
  }

  private async alone(item: Pending) {
    try {
      item.resolve((await this.pool.query<Row>(namedStatement(this.statement, item.values))).rows[0]!);
    } catch (error) {
      item.reject(error);
    }
  }
}

/**
 * One rate-limit shard per group. Each statement counts its alert in a shard row of the key's
 * limit, and a transaction keeps that row locked until it commits: with a shard drawn per alert,
 * a group of 100 locked every shard, so concurrent groups (in this process and others) queued on
 * each other's commits and deadlocked, 1 s apiece (deadlock_timeout), and ingest stalled behind
 * them. A group now counts all its alerts of a key in one shard, its own (the next in turn, from a
 * random start per process), and takes its keys' rows in one order (a stable sort, so alerts of
 * one key keep their order): groups take different rows, and never wait in a circle.
 */
let nextShard = Math.floor(Math.random() * 1_000);
function oneShardPerGroup(values: unknown[][]): unknown[][] {
  const shard = nextShard++;
  return values.map((itemValues) => {
    const [key, ...rest] = itemValues as [string, ...unknown[]];
    const shards = (itemValues[19] as string[]).length;
    return shards > 1 ? [key.replace(/#\d+$/, `#${shard % shards}`), ...rest] : itemValues;
  });
}

const globalForIngest = globalThis as unknown as { mon1torGroupCommit?: GroupCommit };
/** One per process: alerts from every request in flight share its groups. */
export const groupCommit: GroupCommit =
  globalForIngest.mon1torGroupCommit?.statement === SQL
    ? globalForIngest.mon1torGroupCommit
    : (globalForIngest.mon1torGroupCommit = new GroupCommit(pool, SQL, 4, oneShardPerGroup));
