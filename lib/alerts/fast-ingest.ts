// The alert API's storm path: new alerts written a group at a time, one statement and one
// round trip on its own connections (lib/db.ts, ingestPool) for every alert that arrived together in this process (the
// group commit below). For each alert the statement counts it against its key's rate limit (a
// group counts in one of the key's 16 shards, so concurrent groups do not queue on a single
// counter row), claims its Idempotency-Key, inserts the alert (the open-alert dedup index decides
// between concurrent triggers), its event and one delivery per matching active endpoint. Each
// alert's answer is exactly what it would be alone, in the order the alerts came in: its rate
// limit counts the group's earlier alerts of its key. All of it commits together or not at all,
// exactly like the transaction in ingest.ts. The caller wakes the workers after the commit
// (lib/webhooks/delivery/wake.ts): a NOTIFY in this statement serialized every ingest commit.
//
// Requests whose answer depends on an existing alert (a resolved state for a dedupKey, or a
// dedupKey together with an Idempotency-Key) take the general path, ingestAlert in a
// transaction: they need to read that alert first.
import type pg from "pg";
import { ingestPool, INGEST_CONNECTIONS, namedStatement, pool } from "@/lib/db";
import { AppError, isDatabaseUnavailable } from "@/lib/errors";
import { alertFields, alertPayload, newAlertId, type AlertInput } from "@/lib/alerts/ingest";
import { counterKeys, countEventsSql, limitState, type Limit, type LimitState } from "@/lib/rate-limit";
import { currentTraceparent } from "@/lib/telemetry/tracing";
import { NEW_DELIVERY_ID_SQL, newEventId, serializeEnvelope } from "@/lib/webhooks/delivery/envelope";
import { takesEventSql } from "@/lib/webhooks/endpoints/filters";
import { eventQueueTakesSql } from "@/lib/webhooks/delivery/event-queue";

/** Whether `fastIngest` can answer this request without reading an existing alert. */
export const fastPathApplies = (input: AlertInput, idempotencyKey: string | null) =>
  !input.dedupKey || (input.status === "triggered" && idempotencyKey === null);

export type FastResult =
  | { kind: "accepted"; alertId: string; eventId: string; deliveryIds: string[] }
  | { kind: "deduplicated"; alertId: string }
  | { kind: "rate_limited"; state: LimitState }
  /** The Idempotency-Key was used before: the caller replays the stored answer. */
  | { kind: "replay" };

/** One alert as the group statement takes it. */
type Item = {
  /** Every counter row of its key's limit (its shards): the group counts in one of them. */
  limitKeys: string[];
  windowSeconds: number;
  limit: number;
  now: string;
  teamId: string;
  idempotencyKey: string | null;
  requestHash: string | null;
  alertId: string;
  type: string;
  eventId: string;
  severity: string;
  title: string;
  status: string;
  message: string | null;
  monitorId: string | null;
  monitorName: string | null;
  dedupKey: string | null;
  occurredAt: string;
  body: string;
  traceparent: string | null;
  /** Its deliveries to endpoints that can take them so go in one EventQueue row (lib/webhooks/delivery/event-queue.ts). */
  eventQueue: boolean;
};

type Row = { limitCount: number; windowStartMs: number; allowed: boolean; go: boolean; inserted: boolean; deliveryIds: string[] };

// The columns of `items`, in the order of the parameters $1..$21.
const COLUMNS = [
  ["counterKey", "text"], ["windowSeconds", "int"], ["limit", "int"], ["now", "timestamptz"], ["teamId", "text"],
  ["idempotencyKey", "text"], ["requestHash", "text"], ["alertId", "text"], ["type", "text"], ["eventId", "text"],
  ["severity", "text"], ["title", "text"], ["status", "text"], ["message", "text"], ["monitorId", "text"],
  ["monitorName", "text"], ["dedupKey", "text"], ["occurredAt", "timestamptz"], ["body", "text"], ["traceparent", "text"], ["eventQueue", "bool"],
] as const;
const utc = (column: string) => `u."${column}" AT TIME ZONE 'UTC' AS "${column}"`;
/** The group's alerts that go ahead and match `which`, inserted in the order they came in. */
const insertAlertsSql = (which: string) => `INSERT INTO "Alert" (id, "teamId", title, severity, status, message, "monitorId", "monitorName", "dedupKey", "startedAt", "resolvedAt",
                       "lastSequence", "lastEventId", "createdAt")
  SELECT g."alertId", g."teamId", g.title, g.severity::"Severity", g.status::"AlertStatus", g.message, g."monitorId", g."monitorName", g."dedupKey",
         g."occurredAt", CASE WHEN g.status = 'resolved' THEN g."occurredAt" END, 1, g."eventId", g.now
  FROM go g WHERE g.go AND ${which} ORDER BY g.ord`;

const SQL = `
WITH items AS (
  SELECT u.ord::int AS ord, ${COLUMNS.map(([name, type]) => (type === "timestamptz" ? utc(name) : `u."${name}"`)).join(", ")}
  FROM unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ")})
       WITH ORDINALITY AS u(${COLUMNS.map(([name]) => `"${name}"`).join(", ")}, ord)
), ${countEventsSql({
  // $22, $23: (counter row, a counter row of the same limit) pairs; $24: the group's time.
  counted: `SELECT i."counterKey" AS key, count(*)::int AS n, min(i."windowSeconds") AS "windowSeconds",
         ARRAY(SELECT p.key FROM unnest($22::text[], $23::text[]) AS p(of, key) WHERE p.of = i."counterKey") AS keys
  FROM items i GROUP BY i."counterKey"`,
  now: "($24::timestamptz AT TIME ZONE 'UTC')",
})}, ranked AS (
  -- Each alert counts as if alone, after the group's earlier alerts of its key.
  SELECT i.*, (t.count - c.n + row_number() OVER (PARTITION BY i."counterKey" ORDER BY i.ord))::int AS "limitCount", t."windowStart"
  FROM items i JOIN total t ON t.key = i."counterKey" JOIN counted c ON c.key = i."counterKey"
), targets AS (
  -- "queued": the fast path's EventQueue row takes it (eventQueueTakesSql; the claim checks it again).
  SELECT i.ord, e.id, i."eventQueue" AND ${eventQueueTakesSql("e")} AS queued FROM items i
  JOIN "WebhookEndpoint" e ON e."teamId" = i."teamId" AND e.status = 'active'
   AND ${takesEventSql("e", { type: "i.type", severity: "i.severity", monitorId: 'i."monitorId"' })}
), fanout AS (
  -- Counted once per alert here: a count for each alert over every target was quadratic in the group.
  SELECT t.ord, count(*)::int AS n FROM targets t GROUP BY t.ord
), claimed AS (
  INSERT INTO "IdempotencyRecord" ("teamId", key, "requestHash", response, "createdAt")
  SELECT r."teamId", r."idempotencyKey", r."requestHash",
         jsonb_build_object('id', r."alertId", 'eventId', r."eventId", 'deliveriesQueued', COALESCE(f.n, 0), 'deduplicated', false),
         r.now
  FROM ranked r LEFT JOIN fanout f ON f.ord = r.ord WHERE r."limitCount" <= r."limit" AND r."idempotencyKey" IS NOT NULL
  ORDER BY r."teamId", r."idempotencyKey"
  ON CONFLICT DO NOTHING
  RETURNING "teamId", key
), go AS (
  SELECT r.*, r."limitCount" <= r."limit" AS allowed,
         r."limitCount" <= r."limit" AND (r."idempotencyKey" IS NULL OR EXISTS (SELECT 1 FROM claimed c WHERE c."teamId" = r."teamId" AND c.key = r."idempotencyKey")) AS go
  FROM ranked r
), keyed AS (
  ${insertAlertsSql(`g."dedupKey" IS NOT NULL`)}
  ON CONFLICT ("teamId", "dedupKey") WHERE status = 'triggered' AND "dedupKey" IS NOT NULL DO NOTHING
  RETURNING id
), unkeyed AS (
  -- Without a dedupKey an alert cannot conflict: a plain insert (an upsert's speculative insertion
  -- cost a WAL record and its CPU per alert).
  ${insertAlertsSql(`g."dedupKey" IS NULL`)}
  RETURNING id
), alert AS (
  SELECT id FROM keyed UNION ALL SELECT id FROM unkeyed
), event AS (
  INSERT INTO "Event" (id, "teamId", type, "alertId", sequence, body, traceparent, "createdAt")
  SELECT g."eventId", g."teamId", g.type, g."alertId", 1, g.body, g.traceparent, g.now FROM go g JOIN alert a ON a.id = g."alertId"
  RETURNING id
), deliveries AS (
  INSERT INTO "Delivery" (id, "teamId", "endpointId", "eventId", "alertId", sequence, "nextAttemptAt", "createdAt", "updatedAt")
  SELECT ${NEW_DELIVERY_ID_SQL}, g."teamId", t.id, g."eventId", g."alertId", 1, g.now, g.now, g.now
  FROM go g JOIN event ev ON ev.id = g."eventId" JOIN targets t ON t.ord = g.ord AND NOT t.queued
  RETURNING id, "eventId"
), fast AS (
  INSERT INTO "EventQueue" ("eventId", "teamId", "alertId", "eventCreatedAt", "endpointIds", "deliveryIds", "createdAt")
  SELECT g."eventId", g."teamId", g."alertId", g.now, f.endpoints, f.deliveries, g.now
  FROM go g JOIN event ev ON ev.id = g."eventId"
  JOIN (SELECT t.ord, array_agg(t.id ORDER BY t.id) AS endpoints, array_agg(${NEW_DELIVERY_ID_SQL} ORDER BY t.id) AS deliveries
        FROM targets t WHERE t.queued GROUP BY t.ord) f ON f.ord = g.ord
  RETURNING "eventId", "deliveryIds"
), queued AS (
  SELECT "eventId", array_agg(id) AS ids FROM (
    SELECT d."eventId", d.id FROM deliveries d UNION ALL SELECT f."eventId", unnest(f."deliveryIds") FROM fast f
  ) d GROUP BY "eventId"
)
SELECT g."limitCount", (extract(epoch FROM g."windowStart") * 1000)::float8 AS "windowStartMs", g.allowed, g.go,
       a.id IS NOT NULL AS inserted, COALESCE(q.ids, '{}') AS "deliveryIds"
FROM go g LEFT JOIN alert a ON a.id = g."alertId" LEFT JOIN queued q ON q."eventId" = g."eventId"
ORDER BY g.ord`;

/**
 * Writes a group with one statement. The group counts in one shard of each key's limit: with a
 * shard drawn per alert, a group of 100 locked every shard, so concurrent groups (in this process
 * and others) queued on each other's commits and deadlocked, 1 s apiece (deadlock_timeout), and
 * ingest stalled behind them. Its shard is the next in turn, from a random start per process.
 */
let nextShard = Math.floor(Math.random() * 1_000);
export async function writeGroup(items: Item[], on: pg.Pool = ingestPool()): Promise<Row[]> {
  const shard = nextShard++;
  const counterKeyOf = (item: Item) => item.limitKeys[shard % item.limitKeys.length]!;
  const pairs = new Map<string, string[]>();
  for (const item of items) pairs.set(counterKeyOf(item), item.limitKeys);
  const values: unknown[] = COLUMNS.map(([name]) => items.map((item) => (name === "counterKey" ? counterKeyOf(item) : item[name])));
  values.push(
    [...pairs].flatMap(([key, keys]) => keys.map(() => key)),
    [...pairs].flatMap(([, keys]) => keys),
    items.reduce((latest, item) => (item.now > latest ? item.now : latest), items[0]!.now),
  );
  // Named, on connections that keep its generic plan: planned once per connection (lib/db.ts).
  return (await on.query<Row>(namedStatement(SQL, values))).rows;
}

type IngestOptions = {
  limit: Limit;
  idempotency: { key: string; hash: string } | null;
  now?: Date;
  admitted?: boolean;
  /** Queue its deliveries as one EventQueue row where they can be (a worker is there to send them). */
  eventQueue?: boolean;
};

/** The alert as the group statement takes it, with new ids for it and its event. */
export function groupItem(team: { id: string; name: string }, input: AlertInput, options: IngestOptions): Item {
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
  return {
    limitKeys: counterKeys(options.limit),
    windowSeconds: options.limit.windowSeconds,
    limit: options.limit.limit,
    now: now.toISOString(),
    teamId: team.id,
    idempotencyKey: options.idempotency?.key ?? null,
    requestHash: options.idempotency?.hash ?? null,
    alertId,
    type,
    eventId,
    severity: input.severity,
    title: input.title,
    status: input.status,
    message: input.message ?? null,
    monitorId: input.monitor?.id ?? null,
    monitorName: input.monitor?.name ?? null,
    dedupKey: input.dedupKey ?? null,
    occurredAt: at.toISOString(),
    body,
    traceparent: currentTraceparent(),
    eventQueue: options.eventQueue ?? false,
  };
}

export async function fastIngest(team: { id: string; name: string }, input: AlertInput, options: IngestOptions): Promise<FastResult> {
  const item = groupItem(team, input, options);
  const row = await groupCommit.submit(options.admitted ?? false, item);
  if (!row.allowed) {
    return { kind: "rate_limited", state: limitState(options.limit, row.limitCount, new Date(row.windowStartMs), new Date(item.now)) };
  }
  if (!row.go) return { kind: "replay" };
  if (row.inserted) return { kind: "accepted", alertId: item.alertId, eventId: item.eventId, deliveryIds: row.deliveryIds };
  // The dedup index refused it: an alert with this dedupKey is open (it waited for that commit).
  const open = await pool.query<{ id: string }>(`SELECT id FROM "Alert" WHERE "teamId" = $1 AND "dedupKey" = $2 AND status = 'triggered'`, [team.id, input.dedupKey]);
  return { kind: "deduplicated", alertId: open.rows[0]?.id ?? "" };
}

/** A call refused before anything was written: this process has more ingest waiting than it commits in a second. */
export const overloaded = () =>
  new AppError("unavailable", "mon1tor is taking in more alerts than it can store right now. Nothing of this request was stored; retry after the delay given in Retry-After.", undefined, 1);

type Pending<T, R> = {
  item: T;
  queuedAt: number;
  /** When its group goes out, should it be the first waiting: WAIT_MS after it came, or at once if it came alone. */
  dueAt: number;
  resolve: (row: R) => void;
  reject: (error: unknown) => void;
};

/**
 * Group commit. Alerts that arrive together in this process are written together: one
 * statement, so one transaction and one WAL flush, for up to MAX_GROUP of them (`write`, which
 * answers each item with its own row, in order). A group goes out when a connection is free and
 * its first alert has waited WAIT_MS, or at once when it is full; a lone alert (none came in the
 * WAIT_MS before it) is not held. A 202 is answered only after the group's commit. Two items that `apart` gives a common key (one Idempotency-Key, one open
 * alert's dedupKey) never share a group, nor run in two groups at once: the later waits until the
 * group of the first has committed, and sees it, as it would alone. (Only kept out of the same
 * group, a batch's second alert of one dedupKey went out in the next group while the first's was
 * still being written, and sometimes was the one accepted.) One item's error fails its group's
 * statement, so the group is then written again one item at a time: an error reaches only its
 * own caller.
 *
 * Overload: when the alerts waiting here are more than this process committed in the last second
 * (or one has waited longer than MAX_QUEUE_MS before its group started), the call is refused at
 * once with a 503 and Retry-After, before anything is written, instead of queueing for a minute.
 */
export class GroupCommit<T, R> {
  /**
   * 12 ms. At 200 alerts/s (one every 5 ms) a 2 ms wait wrote nearly every alert alone, and a
   * statement's cost is mostly per group (its commit, the rate-limit rows, the inserts' plans).
   * This wait and the worker's gathering of new alerts after a claim (Dispatcher's lingerMs) both
   * add to a receipt's time, and a group costs PostgreSQL far more than a claim: 12 ms here and
   * 12 there took 1,212-1,403 µs of PostgreSQL's CPU per alert at 200/s against 1,377-1,683 at
   * 6 and 20, with the receipts sooner (p50 16-21 ms against 21-24; bench/README.md "Group
   * commit's wait").
   */
  static readonly WAIT_MS = 12;
  static readonly MAX_GROUP = 100;
  static readonly MAX_QUEUE_MS = 1_000;
  private queue: Pending<T, R>[] = [];
  private running = 0;
  /** The `apart` keys of the groups being written, with how many of their items hold each. */
  private readonly writing = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  /** When the last alert came in. */
  private lastSubmitAt = Number.NEGATIVE_INFINITY;
  /** Alerts committed per second, smoothed; starts generous so a cold process is not refused. */
  private rate = 2_000;
  private lastRateAt = performance.now();
  private committedSinceRate = 0;

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly options: { maxGroups?: number; apart?: (item: T) => (string | null)[]; identity?: string; waitMs?: number } = {},
  ) {}

  private get waitMs() {
    return this.options.waitMs ?? GroupCommit.WAIT_MS;
  }

  /** What the group writes (its statement): a dev server's reload keeps the instance only while it is the same. */
  get identity() {
    return this.options.identity;
  }

  /** More alerts wait here than this process committed in the last second. */
  get overloaded() {
    this.updateRate();
    return this.queue.length >= Math.max(GroupCommit.MAX_GROUP, this.rate);
  }

  /** `admitted`: a batch's item, whose call was already let in as a whole. */
  submit(admitted: boolean, item: T): Promise<R> {
    if (!admitted && this.overloaded) return Promise.reject(overloaded());
    const now = performance.now();
    // Waiting only pays while alerts keep coming: one that came alone would wait for nothing.
    const dueAt = now - this.lastSubmitAt < this.waitMs ? now + this.waitMs : now;
    this.lastSubmitAt = now;
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, queuedAt: now, dueAt, resolve, reject });
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
    if (this.running >= (this.options.maxGroups ?? 4) || this.queue.length === 0) return;
    if (this.queue.length >= GroupCommit.MAX_GROUP) return void this.start();
    // From when its first alert came: one left waiting while every connection was busy goes out at once.
    this.timer ??= setTimeout(
      () => {
        this.timer = null;
        this.start();
      },
      Math.max(0, this.queue[0]!.dueAt - performance.now()),
    );
  }

  private start() {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.running >= (this.options.maxGroups ?? 4) || this.queue.length === 0) return;
    const now = performance.now();
    // Waited too long already: refused unwritten, so a retry with the same Idempotency-Key is safe.
    while (this.queue.length > 0 && now - this.queue[0]!.queuedAt > GroupCommit.MAX_QUEUE_MS) this.queue.shift()!.reject(overloaded());
    const { group, keys } = this.take();
    if (group.length === 0) return;
    this.running += 1;
    for (const key of keys) this.writing.set(key, (this.writing.get(key) ?? 0) + 1);
    void this.writeGroup(group).finally(() => {
      this.running -= 1;
      for (const key of keys) {
        const left = this.writing.get(key)! - 1;
        if (left === 0) this.writing.delete(key);
        else this.writing.set(key, left);
      }
      this.committedSinceRate += group.length;
      this.schedule();
    });
    this.schedule();
  }

  /**
   * The next group: up to MAX_GROUP items in the order they came, none sharing a key with an
   * earlier one still waiting or with a group being written; with the keys its items hold.
   */
  private take(): { group: Pending<T, R>[]; keys: string[] } {
    const apart = this.options.apart;
    if (!apart) return { group: this.queue.splice(0, GroupCommit.MAX_GROUP), keys: [] };
    const group: Pending<T, R>[] = [];
    const rest: Pending<T, R>[] = [];
    // Keys of the group, and of the items left waiting: a later item with one of them waits too.
    const taken = new Set<string>();
    const held = new Set<string>();
    for (const pending of this.queue) {
      const mine = apart(pending.item).filter((key): key is string => key !== null);
      if (group.length >= GroupCommit.MAX_GROUP || mine.some((key) => taken.has(key) || held.has(key) || this.writing.has(key))) {
        for (const key of mine) held.add(key);
        rest.push(pending);
        continue;
      }
      for (const key of mine) taken.add(key);
      group.push(pending);
    }
    this.queue = rest;
    return { group, keys: [...taken] };
  }

  private async writeGroup(group: Pending<T, R>[]) {
    let rows: R[];
    try {
      rows = await this.write(group.map((pending) => pending.item));
    } catch (error) {
      // The database is away: every caller gets the 503. Otherwise one item failed the group: alone, each gets its own answer.
      if (group.length === 1 || isDatabaseUnavailable(error)) return group.forEach((pending) => pending.reject(error));
      return void (await Promise.all(group.map((pending) => this.writeGroup([pending]))));
    }
    group.forEach((pending, i) => pending.resolve(rows[i]!));
  }
}

const globalForIngest = globalThis as unknown as { mon1torGroupCommit?: GroupCommit<Item, Row> };
/** One per process: alerts from every request in flight share its groups. */
export const groupCommit: GroupCommit<Item, Row> =
  globalForIngest.mon1torGroupCommit?.identity === SQL
    ? globalForIngest.mon1torGroupCommit
    : (globalForIngest.mon1torGroupCommit = new GroupCommit(writeGroup, {
        identity: SQL,
        maxGroups: INGEST_CONNECTIONS,
        // One Idempotency-Key, or one dedupKey (an open alert), is written by one group at a time.
        apart: (item) => [
          item.idempotencyKey === null ? null : `i ${item.teamId} ${item.idempotencyKey}`,
          item.dedupKey === null ? null : `d ${item.teamId} ${item.dedupKey}`,
        ],
      }));
