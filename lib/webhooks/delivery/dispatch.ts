// Sends due deliveries. One Dispatcher serves three entry points: the long-running worker,
// the cron route, and the alert API's immediate kick after commit. It claims new alerts' queue
// rows (lib/webhooks/delivery/event-queue.ts) and queued deliveries (lib/webhooks/delivery/claim.ts),
// sends, and hands outcomes to lib/webhooks/delivery/record.ts, which applies the failure policy
// (lib/webhooks/delivery/failure.ts).
import type pg from "pg";
import { decrypt } from "@/lib/crypto/encryption";
import { pool as defaultPool, namedStatement } from "@/lib/db";
import { attemptClass, child, metrics, withTeam } from "@/lib/metrics/metrics";
import { sendThroughRelay } from "@/lib/relay/transport";
import { recordSpan, tracingEnabled } from "@/lib/telemetry/tracing";
import { env } from "@/lib/env";
import { claimDeliveries, extendLeases, type Claimed } from "@/lib/webhooks/delivery/claim";
import { claimEvents, DELETE_SQL, EVENT_HOLD_MS, extendEventLeases, fromQueue, QUEUE_VACUUM, vacuumQueue, writeAsRows } from "@/lib/webhooks/delivery/event-queue";
import { readCustomHeaders } from "@/lib/webhooks/endpoints/custom-headers";
import { failurePolicyFromEnv, type FailurePolicy } from "@/lib/webhooks/delivery/failure";
import { sendOutbound, type OutboundResult } from "@/lib/webhooks/delivery/outbound";
import { recordOutcomes, type Outcome } from "@/lib/webhooks/delivery/record";
import { signerFor, type Signer } from "@/lib/webhooks/delivery/sign";
import { policyFromEnv, type DestinationPolicy } from "@/lib/webhooks/delivery/ssrf";

/** An explicit clock, for tests; without one, every time comes from PostgreSQL's `now()`. */
export type Clock = { now(): Date };

export type DispatcherOptions = {
  pool?: pg.Pool;
  clock?: Clock;
  random?: () => number;
  policy?: DestinationPolicy;
  failurePolicy?: FailurePolicy;
  timeoutMs?: number;
  /** Deliveries in flight at once, across all endpoints. */
  concurrency?: number;
  /** Deliveries in flight at once for any one endpoint, so a slow one cannot take every slot. */
  perEndpoint?: number;
  batchSize?: number;
  /** Unrecorded outcomes held at most; when full (the database is away), claiming stops. */
  maxBuffered?: number;
  /**
   * After a claim that took everything due, how long to wait before the next one, so that
   * while alerts trickle in one claim gathers what arrived meanwhile (a claim per alert cost
   * more than the sends at 200 alerts/s). A backlog is claimed without pause, even when
   * per-endpoint quotas cut a claim short. Not for drains of given ids. A lone alert is not
   * held: a drain's first claim goes out at once. 12 ms unless given: with the alert API's group
   * commit waiting 12 ms too (GroupCommit.WAIT_MS), receipts came sooner and PostgreSQL spent less
   * per alert than at 20 here and 6 there; at 8 the extra claims cost more than they saved.
   */
  lingerMs?: number;
  /** How often the leases of held deliveries are renewed; a third of the lease unless given (tests). */
  leaseRenewMs?: number;
  /** Claim EventQueue rows too (lib/webhooks/delivery/event-queue.ts); MON1TOR_EVENT_QUEUE unless given. */
  eventQueue?: boolean;
  /** When to vacuum EventQueue after removing its rows (QUEUE_VACUUM unless given: tests). */
  queueVacuum?: { rows: number; everyMs: number };
};

/** The deliveries of one EventQueue row this process claimed: sent, and those still in flight. */
type HeldEvent = { claims: number; done: Outcome[]; flying: Set<Claimed>; firstDoneAt: number };

type Prepared = {
  from: Pick<Claimed, "url" | "secretCiphertext" | "previousSecretCiphertext" | "customHeadersCiphertext">;
  url: URL;
  sign: Signer;
};

/** What a delivery's spans say about it: ids only, never its URL or anything secret. */
const deliveryAttributes = (d: Claimed) => ({ "mon1tor.delivery.id": d.id, "mon1tor.endpoint.id": d.endpointId, "mon1tor.team.id": d.teamId, "mon1tor.attempt": d.attempts });

export type DrainStats = { attempted: number; delivered: number; failed: number };

/**
 * How often outcomes are written when fewer than a batch are waiting. Each write is a transaction
 * of six statements, and much of its cost is per batch: at 200 alerts/s × 10 endpoints
 * (BENCH_ONLY=latency), writing every 25 ms instead took 520 µs of statement time per alert
 * against 440, and PostgreSQL's CPU per alert was 2,624 µs against 2,464.
 * What it delays is only an alert's next state to the same endpoint, which waits for this one's
 * result (lib/webhooks/delivery/claim.ts); the receipt itself does not wait.
 */
const FLUSH_MS = 50;

/**
 * An endpoint at its in-flight limit that has not answered for this long is slow or hanging
 * (eventsToClaim). At 250 ms, one that hung from a storm's start held every other endpoint's claims
 * for a quarter of a second: the bench's nine healthy endpoints kept 0.68-0.80 of their rate beside
 * a hanging tenth, against 0.82-0.93 at 50 ms (BENCH_ONLY=isolation, warm, alternating, 2026-12-05).
 * An endpoint that answers slower than this and cannot keep up has its share written as queued
 * rows a little sooner, as it would be once OVERFLOW_MS passed anyway.
 */
const SILENT_MS = 50;
/** An endpoint whose room here stays used up this long, though it answers, no longer sizes claims (eventsToClaim). */
const OVERFLOW_MS = 250;

/**
 * While event claims take a storm's events, queued rows are read again no sooner than this after a
 * read of them found none to take. Beside an endpoint at its in-flight limit, whose share of each
 * event was written as a queued row, every claim read those rows again to find none it could send:
 * 150 reads in the bench's isolation drain, each planned afresh (1.4 ms of PostgreSQL's time).
 */
const ROWS_RECHECK_MS = 100;

/** How soon a claim that found nothing is tried again, at the soonest (see drain()). */
const EMPTY_CLAIM_RETRY_MS = 50;
/** Claims in a row left empty by another worker's (see drain()) before the queue counts as drained. */
const MAX_CONTENDED_CLAIMS = 20;

export class Dispatcher {
  private readonly pool: pg.Pool;
  private readonly clock: Clock | null;
  private readonly random: () => number;
  private readonly policy: DestinationPolicy;
  private readonly failurePolicy: FailurePolicy;
  readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly perEndpoint: number;
  private readonly batchSize: number;
  readonly maxBuffered: number;
  private readonly lingerMs: number;
  private readonly leaseRenewMs: number;
  private readonly inFlight = new Map<string, number>();
  /** What every request to an endpoint shares, built once: its parsed URL and its signer (keys decrypted and decoded). */
  private readonly prepared = new Map<string, Prepared>();
  private buffer: Outcome[] = [];
  /** The drain() loops waiting for an attempt to finish (the web process may run two at once). */
  private readonly waiting = new Set<() => void>();
  /** Outcomes handed to the recorder and not yet written: they count against maxBuffered too. */
  private recording = 0;
  /** Outcomes written so far. */
  private written = 0;
  private flushing: Promise<void> = Promise.resolve();
  /**
   * Every delivery claimed here whose outcome is not written yet (in flight, buffered or being
   * recorded), by id, with the attempt number of the claim. Their leases are renewed while they
   * are held (renewLeases), so a live but slow process (CPU-starved, or waiting out a database
   * restart) never has a delivery claimed from under it and sent twice.
   */
  private readonly held = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly eventQueue: boolean;
  private readonly queueVacuum: { rows: number; everyMs: number };
  /**
   * EventQueue rows claimed here whose deliveries are not all recorded yet, by event id: their
   * outcomes are written together, when the last is in (or EVENT_HOLD_MS after the first).
   */
  private readonly events = new Map<string, HeldEvent>();
  /**
   * Every EventQueue row claimed here and not yet removed by a written batch (or given up to
   * rows), with the claim made (its `claims`): their leases are renewed, as `held`'s are.
   */
  private readonly eventClaims = new Map<string, number>();
  /** Outcomes waiting in `events` for the rest of their event's. */
  private heldOutcomes = 0;
  /**
   * When each endpoint with deliveries in flight here last answered, or else when its first went
   * out: one silent for SILENT_MS does not limit how many events a claim takes (eventsToClaim).
   */
  private readonly heardAt = new Map<string, number>();
  /**
   * Deliveries claimed from queue rows for an endpoint at its in-flight limit here, by endpoint:
   * sent as its deliveries in flight finish (launch). Claimed, and their rows' leases renewed, so
   * never sent by another process; at most half the limit per endpoint (eventRoom).
   */
  private readonly waitingRoom = new Map<string, Claimed[]>();
  /** Endpoints the recent event claims' rows listed, and when (eventsToClaim). */
  private readonly eventEndpoints = new Map<string, number>();
  /** Since when each of those has had no room left (eventsToClaim). */
  private readonly fullSince = new Map<string, number>();
  private waitingCount = 0;
  /** Where the last event claim ended, and when one last read the queue from its head (claimEvents' `after`). */
  private eventCursor: string | null = null;
  private eventHeadReadAt = 0;
  /** The last claim of queued rows, when it found none to take (ROWS_RECHECK_MS): when, and whether it saw none due. */
  private emptyRows: { at: number; drained: boolean } | null = null;
  /** Deliveries per event claimed lately, to size the next event claim. */
  private fanout = 10;

  constructor(options: DispatcherOptions = {}) {
    this.pool = options.pool ?? defaultPool;
    this.clock = options.clock ?? null;
    this.random = options.random ?? Math.random;
    this.policy = options.policy ?? policyFromEnv();
    this.failurePolicy = options.failurePolicy ?? failurePolicyFromEnv();
    this.timeoutMs = options.timeoutMs ?? env().MON1TOR_DELIVERY_TIMEOUT_MS;
    // 1,024, not 512: a claim then goes out while most slots are still busy (a claim waits for
    // a batch's worth of free slots, drain()), and the pipe stays fuller. Dispatch ran 10,187 and 10,248 deliveries/s against 9,633 and 9,617
    // with 512 (BENCH_ONLY=raw,dispatch, alternating), worker peak RSS 146-150 MB: since the
    // claim shares each event's body among its deliveries, holding twice as many costs little.
    this.concurrency = options.concurrency ?? 1024;
    this.perEndpoint = options.perEndpoint ?? 64;
    this.batchSize = options.batchSize ?? 500;
    this.maxBuffered = options.maxBuffered ?? 4 * this.concurrency;
    this.lingerMs = options.lingerMs ?? 12;
    // A third of the lease: two renewals can fail (a slow database) before it runs out. At most
    // 10 s: after a database restart, well within its grace (RESTART_GRACE_SECONDS).
    this.leaseRenewMs = options.leaseRenewMs ?? Math.min(10_000, Math.floor(this.leaseMs / 3));
    this.eventQueue = options.eventQueue ?? env().MON1TOR_EVENT_QUEUE;
    this.queueVacuum = options.queueVacuum ?? QUEUE_VACUUM;
  }

  /** Long enough that a live worker always finishes (or abandons) an attempt before it. */
  get leaseMs() {
    return 2 * this.timeoutMs + 5_000;
  }

  /** Outcomes sent but not yet written. */
  get buffered() {
    return this.buffer.length + this.recording + this.heldOutcomes;
  }

  private get running() {
    let total = 0;
    for (const count of this.inFlight.values()) total += count;
    return total;
  }

  /**
   * How many EventQueue rows the next claim may take: about `limit` deliveries' worth, and no more
   * than the endpoints the last claims' rows listed have room for here (eventRoom), so that their
   * deliveries are sent or wait here, not written as queued rows. Left out: an endpoint slow or
   * hanging (eventRoom none), and one whose room has stayed used up for OVERFLOW_MS: either would hold
   * every other endpoint to its pace; its share of each row is written as a queued row instead.
   * None while the room left is under a quarter of the in-flight limit and sends are in flight: a
   * claim per answer cost more than the sends (the drain waits for an answer instead).
   */
  private eventsToClaim(limit: number) {
    const now = performance.now();
    // No more than one endpoint has room for: the rows may all list the same one.
    let room = Math.min(Math.ceil((limit - this.waitingCount) / this.fanout), this.endpointShare);
    for (const [endpointId, seenAt] of this.eventEndpoints) {
      if (now - seenAt > 5_000) {
        this.eventEndpoints.delete(endpointId);
        this.fullSince.delete(endpointId);
        continue;
      }
      const left = this.eventRoom(endpointId);
      if (left > 0) this.fullSince.delete(endpointId);
      else if (!this.fullSince.has(endpointId)) this.fullSince.set(endpointId, now);
      const overflowing = left <= 0 && now - this.fullSince.get(endpointId)! >= OVERFLOW_MS;
      if (!overflowing && !this.silentAtLimit(endpointId)) room = Math.min(room, Math.max(0, left));
    }
    if (room < this.perEndpoint / 4 && this.running > 0) return 0;
    return Math.max(0, room);
  }

  /** What one endpoint may have in flight and waiting here, from queue rows: half as much again as its in-flight limit. */
  private get endpointShare() {
    return Math.floor(1.5 * this.perEndpoint);
  }

  /** At its in-flight limit here, and no answer for SILENT_MS. */
  private silentAtLimit(endpointId: string) {
    return (this.inFlight.get(endpointId) ?? 0) >= this.perEndpoint && performance.now() - (this.heardAt.get(endpointId) ?? 0) >= SILENT_MS;
  }

  /**
   * How many more deliveries of one endpoint a claim of queue rows may hand this process: what
   * is in flight and waiting here stays within half as much again as its in-flight limit, and an endpoint at its
   * limit that has not answered for SILENT_MS (slow, or hanging) gets none. The rest are written
   * as queued rows, and wait for room there as every delivery did before the event queue.
   */
  private eventRoom(endpointId: string) {
    if (this.silentAtLimit(endpointId)) return 0;
    return this.endpointShare - (this.inFlight.get(endpointId) ?? 0) - (this.waitingRoom.get(endpointId)?.length ?? 0);
  }

  /** EventQueue rows first (a storm's new alerts), then queued rows, together up to `limit` deliveries. */
  private async claimBoth(limit: number, ids?: string[]) {
    const now = this.clock?.now() ?? null;
    const events = !ids && this.eventQueue ? this.eventsToClaim(limit) : 0;
    // Held back until an endpoint answers (at most OVERFLOW_MS): queued rows wait that long too,
    // rather than cost a claim per answer.
    if (!ids && this.eventQueue && events === 0 && this.running > 0) return { heldBack: true, deliveries: [], drained: false, exhaustedTeams: [] };
    // From where the last claim ended, and from the head of the queue at least once a second.
    const fromHead = this.eventCursor === null || performance.now() - this.eventHeadReadAt >= 1_000;
    if (fromHead) this.eventHeadReadAt = performance.now();
    const fromEvents =
      events > 0
        ? await claimEvents(this.pool, {
            now,
            limit: events,
            leaseMs: this.leaseMs,
            room: (id) => this.eventRoom(id),
            after: fromHead ? null : this.eventCursor,
          })
        : { deliveries: [], drained: true, written: 0, reached: null };
    if (events > 0) this.eventCursor = fromEvents.drained ? null : fromEvents.reached;
    const rowsLimit = limit - fromEvents.deliveries.length;
    // The rows claim's per-endpoint room counts what waits here too.
    const inFlight = new Map(this.inFlight);
    for (const [id, waiting] of this.waitingRoom) inFlight.set(id, (inFlight.get(id) ?? 0) + waiting.length);
    for (const d of fromEvents.deliveries) inFlight.set(d.endpointId, (inFlight.get(d.endpointId) ?? 0) + 1);
    const recent = fromEvents.deliveries.length > 0 && this.emptyRows && performance.now() - this.emptyRows.at < ROWS_RECHECK_MS ? this.emptyRows : null;
    const readRows = rowsLimit > 0 && !recent;
    // Not read: taken as that read found them (drained or not), so that the drain paces itself as it did.
    const rows = readRows
      ? await claimDeliveries(this.pool, { now, limit: rowsLimit, leaseMs: this.leaseMs, inFlight, perEndpoint: this.perEndpoint, ids })
      : { deliveries: [], drained: recent?.drained ?? false, exhaustedTeams: [] };
    if (readRows) this.emptyRows = rows.deliveries.length === 0 ? { at: performance.now(), drained: rows.drained } : null;
    const claimedAt = performance.now();
    for (const d of fromEvents.deliveries) this.eventEndpoints.set(d.endpointId, claimedAt);
    const claimedEvents = new Set(fromEvents.deliveries.map((d) => d.queuedIn.eventId)).size;
    if (claimedEvents > 0) this.fanout = Math.max(1, fromEvents.deliveries.length / claimedEvents);
    for (const delivery of fromEvents.deliveries) {
      const { eventId, claims } = delivery.queuedIn;
      let held = this.events.get(eventId);
      if (!held) this.events.set(eventId, (held = { claims, done: [], flying: new Set(), firstDoneAt: 0 }));
      this.eventClaims.set(eventId, claims);
      held.flying.add(delivery);
    }
    // A row written for an endpoint with no room, or an event given up, is due now: claim again soon.
    const eventsDrained = fromEvents.drained && fromEvents.written === 0;
    return {
      heldBack: false,
      deliveries: [...fromEvents.deliveries, ...rows.deliveries],
      // No event claimed while deliveries wait here: more may be queued.
      drained: rows.drained && (events === 0 ? !this.eventQueue || ids !== undefined : eventsDrained),
      exhaustedTeams: rows.exhaustedTeams,
    };
  }

  private async claim(limit: number, ids?: string[]): Promise<{ deliveries: Claimed[]; drained: boolean; heldBack: boolean; exhaustedTeams: string[] }> {
    const end = metrics().claimDuration.startTimer();
    const startedAt = new Date();
    const claimed = await this.claimBoth(limit, ids);
    end();
    // Given up in the claim itself: their last allowed attempt's result was never recorded.
    for (const teamId of claimed.exhaustedTeams) child(metrics().deliveries, withTeam({ outcome: "failed" }, teamId)).inc();
    if (tracingEnabled()) {
      const endedAt = new Date();
      for (const d of claimed.deliveries) recordSpan("mon1tor.delivery.claim", d.traceparent, startedAt, endedAt, deliveryAttributes(d));
    }
    return claimed;
  }

  /** The endpoint's prepared request options; rebuilt when its URL, secrets or headers changed. */
  private preparedFor(delivery: Claimed): Prepared {
    let prepared = this.prepared.get(delivery.endpointId);
    if (
      prepared?.from.url !== delivery.url ||
      prepared.from.secretCiphertext !== delivery.secretCiphertext ||
      prepared.from.previousSecretCiphertext !== delivery.previousSecretCiphertext ||
      prepared.from.customHeadersCiphertext !== delivery.customHeadersCiphertext
    ) {
      const { url, secretCiphertext, previousSecretCiphertext, customHeadersCiphertext } = delivery;
      prepared = {
        from: { url, secretCiphertext, previousSecretCiphertext, customHeadersCiphertext },
        url: new URL(url),
        sign: signerFor(decrypt(secretCiphertext), {
          previousSecret: previousSecretCiphertext ? decrypt(previousSecretCiphertext) : null,
          custom: readCustomHeaders(customHeadersCiphertext),
        }),
      };
      if (this.prepared.size > 10_000) this.prepared.clear();
      this.prepared.set(delivery.endpointId, prepared);
    }
    return prepared;
  }

  private async attempt(delivery: Claimed): Promise<Outcome> {
    const startedAt = this.clock?.now() ?? new Date();
    let result: OutboundResult;
    try {
      const { url, sign } = this.preparedFor(delivery);
      const headers = sign(delivery.id, Math.floor(startedAt.getTime() / 1000), delivery.body);
      result =
        delivery.kind === "relay"
          ? await sendThroughRelay(this.pool, { endpointId: delivery.endpointId, deliveryId: delivery.id, headers, body: delivery.body.toString(), timeoutMs: this.timeoutMs })
          : await sendOutbound({ method: "POST", url, headers, body: delivery.body, timeoutMs: this.timeoutMs }, this.policy);
    } catch (error) {
      console.error("[mon1tor] delivery attempt failed in our code:", error instanceof Error ? error.message : error);
      result = { ok: false, statusCode: null, errorClass: "internal", reason: "internal error", durationMs: 0, responseExcerpt: null, retryAfterSeconds: null };
    }
    const m = metrics();
    const statusClass = attemptClass(result);
    child(m.attempts, { class: statusClass }).inc();
    child(m.attemptDuration).observe(result.durationMs / 1000);
    if (delivery.attempts === 1) child(m.alertToFirstAttempt).observe(Math.max(0, startedAt.getTime() - delivery.queuedAt.getTime()) / 1000);
    if (tracingEnabled()) {
      recordSpan(
        "mon1tor.delivery.attempt",
        delivery.traceparent,
        startedAt,
        new Date(startedAt.getTime() + result.durationMs),
        { ...deliveryAttributes(delivery), "mon1tor.status_class": statusClass, ...(result.statusCode ? { "http.response.status_code": result.statusCode } : {}), ...(result.errorClass ? { "error.type": result.errorClass } : {}) },
        !result.ok,
      );
    }
    return { delivery, startedAt, result };
  }

  private hold(delivery: Claimed) {
    this.held.set(delivery.id, delivery.attempts);
    this.heartbeat ??= setInterval(() => void this.renewLeases(), this.leaseRenewMs).unref();
  }

  private release(outcomes: Outcome[]) {
    for (const { delivery } of outcomes) if (this.held.get(delivery.id) === delivery.attempts) this.held.delete(delivery.id);
    if (this.held.size === 0 && this.eventClaims.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
  }

  private renewing = false;
  /** Extends the lease of every delivery still held here; a renewal that fails is tried at the next beat. */
  private async renewLeases() {
    if (this.renewing || (this.held.size === 0 && this.eventClaims.size === 0)) return;
    this.renewing = true;
    try {
      const now = this.clock?.now() ?? null;
      if (this.held.size > 0) await extendLeases(this.pool, { now, leaseMs: this.leaseMs, held: this.held });
      if (this.eventClaims.size > 0) await extendEventLeases(this.pool, { now, leaseMs: this.leaseMs, held: this.eventClaims });
    } catch (error) {
      this.reportError("renewing leases", error);
    } finally {
      this.renewing = false;
    }
  }

  private launch(delivery: Claimed, stats: DrainStats, tasks: Set<Promise<void>>): Promise<void> {
    // A delivery sent from a queue row has no row of its own to lease: its event's row is (renewLeases).
    if (fromQueue(delivery)) this.heartbeat ??= setInterval(() => void this.renewLeases(), this.leaseRenewMs).unref();
    else this.hold(delivery);
    const before = this.inFlight.get(delivery.endpointId) ?? 0;
    this.inFlight.set(delivery.endpointId, before + 1);
    if (before === 0) this.heardAt.set(delivery.endpointId, performance.now());
    const task: Promise<void> = this.attempt(delivery).then((outcome) => {
      const left = this.inFlight.get(delivery.endpointId)! - 1;
      if (left === 0) {
        this.inFlight.delete(delivery.endpointId);
        this.heardAt.delete(delivery.endpointId);
      } else {
        this.inFlight.set(delivery.endpointId, left);
        this.heardAt.set(delivery.endpointId, performance.now());
      }
      stats.attempted += 1;
      if (outcome.result.ok) stats.delivered += 1;
      else stats.failed += 1;
      const next = this.waitingRoom.get(delivery.endpointId);
      if (next) {
        this.waitingCount -= 1;
        const waiting = next.shift()!;
        if (next.length === 0) this.waitingRoom.delete(delivery.endpointId);
        tasks.add(this.launch(waiting, stats, tasks));
      }
      this.collect(outcome);
      if (this.buffer.length >= this.batchSize) void this.flush();
      tasks.delete(task);
      for (const wake of this.waiting) wake();
    });
    return task;
  }

  /** An outcome to write: at once, or with the rest of its event's (sent from a queue row). */
  private collect(outcome: Outcome) {
    const held = fromQueue(outcome.delivery) ? this.events.get(outcome.delivery.queuedIn.eventId) : undefined;
    if (!held) return void this.buffer.push(outcome);
    held.flying.delete(outcome.delivery);
    held.done.push(outcome);
    held.firstDoneAt ||= performance.now();
    this.heldOutcomes += 1;
    if (held.flying.size === 0) this.releaseEvent(outcome.delivery.queuedIn!.eventId, held);
  }

  /** Moves an event's outcomes to the buffer: it is written with the next batch, and its queue row removed. */
  private releaseEvent(eventId: string, held: HeldEvent) {
    this.events.delete(eventId);
    this.heldOutcomes -= held.done.length;
    for (const outcome of held.done) this.buffer.push(outcome);
  }

  /**
   * Events with a delivery still in flight EVENT_HOLD_MS after their first outcome: those are
   * written as leased rows of their own (held here as any claimed row), and the event's other
   * outcomes are written now, without them. If writing fails, the event keeps waiting.
   */
  private async writeSlow() {
    const now = performance.now();
    const slow = [...this.events].filter(([, held]) => held.firstDoneAt > 0 && now - held.firstDoneAt >= EVENT_HOLD_MS && held.flying.size > 0);
    if (slow.length === 0) return;
    const flying = slow.flatMap(([, held]) => [...held.flying].filter(fromQueue));
    try {
      await writeAsRows(this.pool, flying, { now: this.clock?.now() ?? null, leaseMs: this.leaseMs, counted: true, done: false });
    } catch (error) {
      return this.reportError("writing slow deliveries", error);
    }
    for (const delivery of flying) this.hold(delivery);
    // An outcome that came in meanwhile is among `done` already; its row is there, and it is recorded as a row's.
    for (const [eventId, held] of slow) if (this.events.get(eventId) === held) this.releaseEvent(eventId, held);
  }

  /**
   * When a drain stops early (its signal: the worker stopping), what waits here is not sent: it is
   * written as queued rows, due now and its attempt not counted, for any worker to claim. Written
   * as leased rows already (writeSlow), it waits out that lease. An event with nothing left in
   * flight is recorded with the last flush.
   */
  private async giveBackWaiting() {
    if (this.waitingCount === 0) return;
    const waiting = [...this.waitingRoom.values()].flat();
    this.waitingRoom.clear();
    this.waitingCount = 0;
    // Not all of them still from queue rows: one writeSlow wrote as a leased row is held here as a row's.
    const queued = waiting.filter(fromQueue);
    try {
      if (queued.length > 0) await writeAsRows(this.pool, queued, { now: this.clock?.now() ?? null, leaseMs: null, counted: false, done: false });
    } catch (error) {
      // Their queue rows stay leased until the lease runs out; then they are claimed again.
      return this.reportError("giving back unsent deliveries", error);
    }
    const emptied: string[] = [];
    for (const delivery of waiting) {
      this.held.delete(delivery.id);
      const [eventId, held] = [...this.events].find(([, event]) => event.flying.has(delivery)) ?? [];
      if (!held) continue;
      held.flying.delete(delivery);
      if (held.flying.size > 0) continue;
      // Nothing of it was sent: its queue row goes now; else with its outcomes, in the last flush.
      if (held.done.length === 0) emptied.push(eventId!);
      this.releaseEvent(eventId!, held);
    }
    if (emptied.length === 0) return;
    try {
      await this.pool.query(namedStatement(DELETE_SQL, [emptied]));
      for (const eventId of emptied) this.eventClaims.delete(eventId);
    } catch (error) {
      this.reportError("giving back unsent deliveries", error);
    }
  }

  /**
   * Writes buffered outcomes, one flush at a time. If the database is away the outcomes
   * stay buffered for the next flush; should this process die first, the leases expire
   * and the deliveries are sent again (at least once).
   */
  private flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.events.size > 0) await this.writeSlow();
      const batch = this.buffer;
      this.buffer = [];
      if (batch.length === 0) return;
      this.recording = batch.length;
      const end = metrics().recordDuration.startTimer();
      // Read before recording, which may write them as rows of their own (record.ts).
      const events = batch.map(({ delivery }) => delivery.queuedIn?.eventId);
      try {
        const left = await recordOutcomes(this.pool, batch, { policy: this.failurePolicy, now: this.clock?.now() ?? null, random: this.random });
        this.written += batch.length - left.length;
        end();
        const unwritten = new Set(left);
        // A written batch removed its events' queue rows: their leases are not renewed any more.
        for (const [i, outcome] of batch.entries()) {
          const eventId = events[i];
          if (eventId !== undefined && !unwritten.has(outcome) && this.eventClaims.delete(eventId)) this.queueRowsRemoved += 1;
        }
        this.upkeepQueue();
        this.release(batch.filter((outcome) => !unwritten.has(outcome)));
        if (left.length > 0) {
          this.buffer = left.concat(this.buffer);
          this.reportError("recording delivery results", new Error("the database is unavailable"));
        }
      } catch (error) {
        this.buffer = batch.concat(this.buffer);
        this.reportError("recording delivery results", error);
      } finally {
        this.recording = 0;
      }
    });
    return this.flushing;
  }

  private queueRowsRemoved = 0;
  /** When the first of those was removed. */
  private queueRemovingSince = 0;
  private vacuuming = false;
  /** Vacuums EventQueue once enough of its rows were removed here, over long enough (QUEUE_VACUUM); never waited for. */
  private upkeepQueue() {
    const now = performance.now();
    if (this.queueRowsRemoved === 0) return;
    this.queueRemovingSince ||= now;
    if (this.vacuuming || this.queueRowsRemoved < this.queueVacuum.rows || now - this.queueRemovingSince < this.queueVacuum.everyMs) return;
    this.vacuuming = true;
    this.queueRowsRemoved = 0;
    this.queueRemovingSince = 0;
    vacuumQueue(this.pool)
      .catch((error: unknown) => this.reportError("vacuuming the event queue", error))
      .finally(() => (this.vacuuming = false));
  }

  /**
   * At shutdown, after the last drain: writes what is still buffered, trying again every 250 ms
   * while the database is away, until `deadline` (performance.now()). Returns what is left.
   */
  async settle(deadline: number): Promise<number> {
    await this.flush();
    while (this.buffered > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await this.flush();
    }
    return this.buffered;
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
    // When the last claim found nothing; claims are not retried more often than EMPTY_CLAIM_RETRY_MS.
    let emptyAt = 0;
    // An empty claim proves the queue is drained only if no endpoint was held back as busy.
    let emptyWhileIdle = false;
    // Empty claims in a row that chose due rows another worker was taking (locked, so skipped):
    // there is more to do, and claiming again shortly shares it. Several workers woken by one
    // alert choose the same oldest rows; taken as proof of an empty queue, all but one went back
    // to sleep until the next wake or poll (up to a second) while that one sent everything.
    let contended = 0;
    // Writing outcomes can unblock an alert's next state (lib/webhooks/delivery/claim.ts): one more claim after
    // that. Also when the timed flush wrote them while the last claim ran, which then missed them.
    let claimedAfterFlush = false;
    let writtenAtClaim = 0;
    // When the last claim took everything that was due (lingerMs).
    let drainedAt = 0;
    const flushTimer = setInterval(() => void this.flush(), FLUSH_MS);
    try {
      while (!signal?.aborted) {
        const now = performance.now();
        const free = this.concurrency - this.running;
        // Claim in batches: a round trip per freed slot would cost more than the sends. Half the
        // slots rather than a quarter: each claim reads past every leased row still waiting to
        // be recorded, so fewer, larger claims took 12% less of PostgreSQL's time in the bench.
        const worthClaiming = free >= Math.min(this.batchSize, this.concurrency / 2) || tasks.size === 0;
        // Results that cannot be written yet are held in memory: past the cap, send nothing more.
        const roomToRecord = this.buffered < this.maxBuffered;
        const lingering = drainedAt > 0 && now - drainedAt < this.lingerMs;
        if (free > 0 && worthClaiming && roomToRecord && now < deadline && !lingering && (!emptyAt || now - emptyAt >= EMPTY_CLAIM_RETRY_MS)) {
          const idle = this.running === 0;
          writtenAtClaim = this.written;
          const { deliveries: claimed, drained, heldBack } = await this.claim(Math.min(free, this.batchSize), ids);
          emptyAt = claimed.length === 0 && !heldBack ? performance.now() : 0;
          drainedAt = !ids && claimed.length > 0 && drained ? performance.now() : 0;
          if (claimed.length > 0) claimedAfterFlush = false;
          contended = claimed.length === 0 && !drained && !heldBack ? contended + 1 : 0;
          // Bounded: rows that stay due yet untaken for a second are left to the next drain.
          emptyWhileIdle = claimed.length === 0 && idle && (contended === 0 || contended > MAX_CONTENDED_CLAIMS);
          for (const delivery of claimed) {
            // Sent from a queue row to an endpoint at its limit: waits here for one of its sends to finish.
            if (fromQueue(delivery) && (this.inFlight.get(delivery.endpointId) ?? 0) >= this.perEndpoint) {
              const waiting = this.waitingRoom.get(delivery.endpointId);
              if (waiting) waiting.push(delivery);
              else this.waitingRoom.set(delivery.endpointId, [delivery]);
              this.waitingCount += 1;
            } else tasks.add(this.launch(delivery, stats, tasks));
          }
          if (claimed.length > 0) continue;
        }
        if (tasks.size === 0) {
          if (!roomToRecord) {
            // Nothing in flight and no room: write what we can; if the database is still away, stop here.
            await this.flush();
            if (this.buffered >= this.maxBuffered) break;
            continue;
          }
          const writtenSinceClaim = this.buffered > 0 || this.written !== writtenAtClaim;
          if (emptyAt && emptyWhileIdle && writtenSinceClaim && !claimedAfterFlush && performance.now() < deadline) {
            await this.flush();
            claimedAfterFlush = true;
            emptyAt = 0;
            continue;
          }
          if ((emptyAt && emptyWhileIdle) || performance.now() >= deadline) break;
          if (lingering) await new Promise((resolve) => setTimeout(resolve, Math.min(this.lingerMs - (now - drainedAt), deadline - now)));
          else if (contended > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(EMPTY_CLAIM_RETRY_MS, deadline - now)));
          emptyAt = 0;
          continue;
        }
        // Not Promise.race over the tasks: that adds a reaction to every task in flight each
        // round, hundreds per finished attempt, all kept until those tasks end.
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            this.waiting.delete(done);
            resolve();
          };
          const timer = setTimeout(done, 50);
          this.waiting.add(done);
        });
      }
      await this.giveBackWaiting();
      await Promise.all(tasks);
    } finally {
      clearInterval(flushTimer);
      await this.flush();
    }
    return stats;
  }
}
