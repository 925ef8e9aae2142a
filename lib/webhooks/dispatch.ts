// Sends due deliveries. One Dispatcher serves three entry points: the long-running worker,
// the cron route, and the alert API's immediate kick after commit.
//
// Claiming: FOR UPDATE SKIP LOCKED, and the claim itself pushes nextAttemptAt forward by
// a lease and bumps `attempts`. A worker that dies leaves the delivery to be claimed again
// when the lease runs out; results are only written where `attempts` still matches, so a
// late writer can never overwrite a newer attempt.
import { decrypt } from "@/lib/crypto/encryption";
import type pg from "pg";
import { pool as defaultPool } from "@/lib/db";
import { sendOutbound, type OutboundResult } from "@/lib/webhooks/outbound";
import { retryDelayMs } from "@/lib/webhooks/retry";
import { deliveryHeaders } from "@/lib/webhooks/sign";
import { policyFromEnv, type DestinationPolicy } from "@/lib/webhooks/ssrf";

export type Clock = { now(): Date };
export const systemClock: Clock = { now: () => new Date() };

export type DispatcherOptions = {
  pool?: pg.Pool;
  clock?: Clock;
  random?: () => number;
  policy?: DestinationPolicy;
  timeoutMs?: number;
  /** Deliveries in flight at once, across all endpoints. */
  concurrency?: number;
  /** Deliveries in flight at once for any one endpoint, so a slow one cannot take every slot. */
  perEndpoint?: number;
  batchSize?: number;
};

type Claimed = {
  id: string;
  attempts: number;
  endpointId: string;
  url: string;
  secretCiphertext: string;
  body: string;
};

type Outcome = {
  delivery: Claimed;
  startedAt: Date;
  result: OutboundResult;
};

export type DrainStats = { attempted: number; delivered: number; failed: number };

const GONE_REASON = "endpoint answered 410 Gone";

export class Dispatcher {
  private readonly pool: pg.Pool;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly policy: DestinationPolicy;
  readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly perEndpoint: number;
  private readonly batchSize: number;
  private readonly inFlight = new Map<string, number>();
  private readonly secrets = new Map<string, string>();
  private buffer: Outcome[] = [];
  private flushing: Promise<void> = Promise.resolve();

  constructor(options: DispatcherOptions = {}) {
    this.pool = options.pool ?? defaultPool;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.policy = options.policy ?? policyFromEnv();
    this.timeoutMs = options.timeoutMs ?? Number(process.env.MON1TOR_DELIVERY_TIMEOUT_MS ?? 15_000);
    this.concurrency = options.concurrency ?? 512;
    this.perEndpoint = options.perEndpoint ?? 64;
    this.batchSize = options.batchSize ?? 500;
  }

  /** Long enough that a live worker always finishes (or abandons) an attempt before it. */
  get leaseMs() {
    return 2 * this.timeoutMs + 5_000;
  }

  private get running() {
    let total = 0;
    for (const count of this.inFlight.values()) total += count;
    return total;
  }

  private async claim(limit: number, ids?: string[]): Promise<Claimed[]> {
    const now = this.clock.now();
    const leaseUntil = new Date(now.getTime() + this.leaseMs);
    const saturated = [...this.inFlight].filter(([, count]) => count >= this.perEndpoint).map(([id]) => id);
    // Timestamps travel as ISO text read as UTC: pg would otherwise send JS Dates in local time.
    const result = await this.pool.query<Claimed>(
      `WITH candidates AS (
         SELECT d.id, d."endpointId", d."nextAttemptAt"
         FROM "Delivery" d
         JOIN "WebhookEndpoint" e ON e.id = d."endpointId" AND e.status = 'active'
         WHERE d."nextAttemptAt" <= ($1::timestamptz AT TIME ZONE 'UTC') AND NOT (d."endpointId" = ANY($2::text[]))
           AND ($3::text[] IS NULL OR d.id = ANY($3::text[]))
         ORDER BY d."nextAttemptAt"
         LIMIT $4
       ), ranked AS (
         SELECT id, row_number() OVER (PARTITION BY "endpointId" ORDER BY "nextAttemptAt") AS rank FROM candidates
       ), picked AS (
         SELECT d.id FROM "Delivery" d JOIN ranked r ON r.id = d.id
         WHERE r.rank <= $5 AND d."nextAttemptAt" <= ($1::timestamptz AT TIME ZONE 'UTC')
         LIMIT $6
         FOR UPDATE OF d SKIP LOCKED
       )
       UPDATE "Delivery" d
       SET "nextAttemptAt" = ($7::timestamptz AT TIME ZONE 'UTC'), "leaseExpiresAt" = ($7::timestamptz AT TIME ZONE 'UTC'),
           attempts = d.attempts + 1, "updatedAt" = ($1::timestamptz AT TIME ZONE 'UTC')
       FROM picked, "Event" ev, "WebhookEndpoint" e
       WHERE d.id = picked.id AND ev.id = d."eventId" AND e.id = d."endpointId"
       RETURNING d.id, d.attempts, d."endpointId", e.url, e."secretCiphertext", ev.body`,
      [now.toISOString(), saturated, ids ?? null, limit * 4, this.perEndpoint, limit, leaseUntil.toISOString()],
    );
    return result.rows;
  }

  private secretOf(ciphertext: string): string {
    let secret = this.secrets.get(ciphertext);
    if (secret === undefined) {
      secret = decrypt(ciphertext);
      if (this.secrets.size > 10_000) this.secrets.clear();
      this.secrets.set(ciphertext, secret);
    }
    return secret;
  }

  private async attempt(delivery: Claimed): Promise<Outcome> {
    const startedAt = this.clock.now();
    let result: OutboundResult;
    try {
      const headers = deliveryHeaders(this.secretOf(delivery.secretCiphertext), delivery.id, Math.floor(startedAt.getTime() / 1000), delivery.body);
      result = await sendOutbound({ method: "POST", url: delivery.url, headers, body: delivery.body, timeoutMs: this.timeoutMs }, this.policy);
    } catch (error) {
      console.error("[mon1tor] delivery attempt failed in our code:", error instanceof Error ? error.message : error);
      result = { ok: false, statusCode: null, errorClass: "internal", reason: "internal error", durationMs: 0, responseExcerpt: null, retryAfterSeconds: null };
    }
    return { delivery, startedAt, result };
  }

  /** Writes a batch of outcomes: attempt rows, delivery states and endpoint counters, in one transaction. */
  private async record(outcomes: Outcome[]) {
    if (outcomes.length === 0) return;
    const now = this.clock.now();
    const rows = outcomes.map(({ delivery, startedAt, result }) => {
      const gone = result.statusCode === 410;
      const delay = result.ok || gone ? null : retryDelayMs(delivery.attempts, result, this.random);
      const status = result.ok ? "delivered" : delay === null ? "failed" : "retrying";
      return {
        id: delivery.id,
        attempts: delivery.attempts,
        endpointId: delivery.endpointId,
        status,
        nextAttemptAt: delay === null ? null : new Date(now.getTime() + delay),
        startedAt,
        result,
        gone,
      };
    });
    const endpointDelta = new Map<string, { success: boolean; failures: number; gone: boolean }>();
    for (const row of rows) {
      const entry = endpointDelta.get(row.endpointId) ?? { success: false, failures: 0, gone: false };
      if (row.result.ok) entry.success = true;
      else entry.failures += 1;
      entry.gone ||= row.gone;
      endpointDelta.set(row.endpointId, entry);
    }
    const col = <T,>(pick: (row: (typeof rows)[number]) => T) => rows.map(pick);
    const utc = (date: Date | null) => date?.toISOString() ?? null;
    const deltas = [...endpointDelta];
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out client has no listener of the pool's: without one, a server shutdown
    // between two statements would be an unhandled 'error' event and end the process.
    const onError = (error: Error) => (broken = error);
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      await client.query(
        `INSERT INTO "DeliveryAttempt" (id, "deliveryId", number, "startedAt", "durationMs", "statusCode", "errorClass", "errorMessage", "responseExcerpt")
         SELECT 'att_' || md5(u.id || ':' || u.number), u.id, u.number, u.started AT TIME ZONE 'UTC', u.duration, u.code, u.class, u.reason, u.excerpt
         FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::text[], $8::text[])
           AS u(id, number, started, duration, code, class, reason, excerpt)
         WHERE EXISTS (SELECT 1 FROM "Delivery" d WHERE d.id = u.id)
         ON CONFLICT ("deliveryId", number) DO NOTHING`,
        [
          col((r) => r.id),
          col((r) => r.attempts),
          col((r) => r.startedAt.toISOString()),
          col((r) => r.result.durationMs),
          col((r) => r.result.statusCode),
          col((r) => r.result.errorClass),
          col((r) => r.result.reason),
          col((r) => r.result.responseExcerpt),
        ],
      );
      await client.query(
        `UPDATE "Delivery" d SET
           status = u.status::"DeliveryStatus", "nextAttemptAt" = u.next AT TIME ZONE 'UTC', "leaseExpiresAt" = NULL,
           "lastStatusCode" = u.code, "lastError" = u.reason, "lastLatencyMs" = u.duration,
           "deliveredAt" = CASE WHEN u.status = 'delivered' THEN ($8::timestamptz AT TIME ZONE 'UTC') ELSE d."deliveredAt" END,
           "updatedAt" = ($8::timestamptz AT TIME ZONE 'UTC')
         FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::int[], $6::text[], $7::int[])
           AS u(id, attempts, status, next, code, reason, duration)
         WHERE d.id = u.id AND d.attempts = u.attempts`,
        [
          col((r) => r.id),
          col((r) => r.attempts),
          col((r) => r.status),
          col((r) => utc(r.nextAttemptAt)),
          col((r) => r.result.statusCode),
          col((r) => r.result.reason),
          col((r) => r.result.durationMs),
          now.toISOString(),
        ],
      );
      await client.query(
        `UPDATE "WebhookEndpoint" e SET
           "consecutiveFailures" = CASE WHEN u.success THEN 0 ELSE e."consecutiveFailures" + u.failures END,
           status = CASE WHEN u.gone THEN 'disabled'::"EndpointStatus" ELSE e.status END,
           "statusReason" = CASE WHEN u.gone THEN $5 ELSE e."statusReason" END,
           "disabledAt" = CASE WHEN u.gone THEN ($6::timestamptz AT TIME ZONE 'UTC') ELSE e."disabledAt" END,
           "updatedAt" = ($6::timestamptz AT TIME ZONE 'UTC')
         FROM unnest($1::text[], $2::boolean[], $3::int[], $4::boolean[]) AS u(id, success, failures, gone)
         WHERE e.id = u.id`,
        [deltas.map(([id]) => id), deltas.map(([, v]) => v.success), deltas.map(([, v]) => v.failures), deltas.map(([, v]) => v.gone), GONE_REASON, now.toISOString()],
      );
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      // A connection that failed (say, the database restarted) must not go back to the pool.
      broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  private launch(delivery: Claimed, stats: DrainStats, tasks: Set<Promise<void>>): Promise<void> {
    this.inFlight.set(delivery.endpointId, (this.inFlight.get(delivery.endpointId) ?? 0) + 1);
    const task: Promise<void> = this.attempt(delivery).then((outcome) => {
      const left = this.inFlight.get(delivery.endpointId)! - 1;
      if (left === 0) this.inFlight.delete(delivery.endpointId);
      else this.inFlight.set(delivery.endpointId, left);
      stats.attempted += 1;
      if (outcome.result.ok) stats.delivered += 1;
      else stats.failed += 1;
      this.buffer.push(outcome);
      if (this.buffer.length >= this.batchSize) void this.flush();
      tasks.delete(task);
    });
    return task;
  }

  /**
   * Writes buffered outcomes, one flush at a time. If the database is away the outcomes
   * stay buffered for the next flush; should this process die first, the leases expire
   * and the deliveries are sent again (at least once).
   */
  private flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batch = this.buffer;
      this.buffer = [];
      try {
        await this.record(batch);
      } catch (error) {
        this.buffer = batch.concat(this.buffer);
        this.reportError("recording delivery results", error);
      }
    });
    return this.flushing;
  }

  private lastReport = 0;
  reportError(what: string, error: unknown) {
    if (Date.now() - this.lastReport < 1_000) return;
    this.lastReport = Date.now();
    console.error(`[mon1tor] ${what} failed: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
  }

  /**
   * Claims and sends due deliveries until none is left or `budgetMs` has passed, keeping up
   * to `concurrency` in flight, then writes every outcome. With `ids`, only those.
   */
  async drain({ budgetMs = Number.POSITIVE_INFINITY, ids, signal }: { budgetMs?: number; ids?: string[]; signal?: AbortSignal } = {}): Promise<DrainStats> {
    const deadline = performance.now() + budgetMs;
    const stats: DrainStats = { attempted: 0, delivered: 0, failed: 0 };
    const tasks = new Set<Promise<void>>();
    // When the last claim found nothing; claims are not retried more often than every 50 ms.
    let emptyAt = 0;
    // An empty claim proves the queue is drained only if no endpoint was held back as busy.
    let emptyWhileIdle = false;
    const flushTimer = setInterval(() => void this.flush(), 25);
    try {
      while (!signal?.aborted) {
        const now = performance.now();
        const free = this.concurrency - this.running;
        // Claim in batches: a round trip per freed slot would cost more than the sends.
        const worthClaiming = free >= Math.min(this.batchSize, this.concurrency / 4) || tasks.size === 0;
        if (free > 0 && worthClaiming && now < deadline && (!emptyAt || now - emptyAt >= 50)) {
          const idle = this.running === 0;
          const claimed = await this.claim(Math.min(free, this.batchSize), ids);
          emptyAt = claimed.length === 0 ? performance.now() : 0;
          emptyWhileIdle = claimed.length === 0 && idle;
          for (const delivery of claimed) tasks.add(this.launch(delivery, stats, tasks));
          if (claimed.length > 0) continue;
        }
        if (tasks.size === 0) {
          if ((emptyAt && emptyWhileIdle) || performance.now() >= deadline) break;
          emptyAt = 0;
          continue;
        }
        await Promise.race([...tasks, new Promise((resolve) => setTimeout(resolve, 50))]);
      }
      await Promise.all(tasks);
    } finally {
      clearInterval(flushTimer);
      await this.flush();
    }
    return stats;
  }
}
