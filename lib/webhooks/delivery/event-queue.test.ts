// The event as the queue (lib/webhooks/delivery/event-queue.ts): a new alert's deliveries go out
// from one EventQueue row and are written once, finished; whatever the fast path does not send
// is written as a queued Delivery row and handled as any other. Real PostgreSQL, a real receiver.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fastIngest } from "@/lib/alerts/fast-ingest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db, pool } from "@/lib/db";
import { limits } from "@/lib/rate-limit";
import { TestClock } from "@/lib/testing/clock";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { claimEvents, copyField } from "@/lib/webhooks/delivery/event-queue";
import { failurePolicyFromEnv } from "@/lib/webhooks/delivery/failure";
import { recordOutcomes } from "@/lib/webhooks/delivery/record";
import { getDeliveryDetail, listDeliveries } from "@/lib/webhooks/endpoints/queries";

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

/** A team with an endpoint per path, and a new alert for it taken in through the event queue. */
async function alertFor(paths: string[], alert: { dedupKey?: string } = {}) {
  const team = await createTeam();
  const endpoints = [];
  for (const path of paths) endpoints.push(await createActiveEndpoint(team.id, `${receiver.url}${path}`));
  const result = await fastIngest(team, { title: "Disk full", severity: "critical", status: "triggered", ...alert }, {
    limit: limits.alertApiPerKey(`eq-${team.id}`),
    idempotency: null,
    eventQueue: true,
  });
  if (result.kind !== "accepted") throw new Error(`not accepted: ${result.kind}`);
  return { team, endpoints, ...result };
}

/** `count` more new alerts for `team`, through the event queue. */
async function moreAlerts(team: { id: string; name: string }, count: number) {
  const limit = { key: `eq-more-${team.id}`, limit: 1e9, windowSeconds: 60 };
  for (let i = 0; i < count; i++) await fastIngest(team, { title: `more ${i}`, severity: "warning", status: "triggered" }, { limit, idempotency: null, eventQueue: true });
}

/** The receiver holds its answers to `path` until the returned function is called; others get a 200. */
function holdAnswers(path: string): () => void {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  receiver.respond(async (r) => {
    if (r.path === path) await held;
    return { status: 200 };
  });
  return release;
}

const queueRows = (teamId: string) => db.eventQueue.findMany({ where: { teamId } });
const deliveriesOf = (teamId: string) =>
  db.delivery.findMany({ where: { teamId }, include: { attemptLog: true, endpoint: { select: { url: true } } }, orderBy: { endpointId: "asc" } });
const at = (path: string) => receiver.requests.filter((r) => r.path === path);

describe("the event as the queue", () => {
  it("queues a new alert as one row, sends it signed to each endpoint, and writes each delivery once, delivered, with its attempt", async () => {
    receiver.respond(() => ({ status: 200, body: "ok" }));
    const { team, endpoints, deliveryIds, eventId } = await alertFor(["/eq/a", "/eq/b"]);

    const [queued] = await queueRows(team.id);
    expect(queued).toMatchObject({ eventId, claims: 0 });
    expect([...queued!.deliveryIds].sort()).toEqual([...deliveryIds].sort());
    expect(await db.delivery.count({ where: { teamId: team.id } })).toBe(0);

    await new Dispatcher({ eventQueue: true, timeoutMs: 2_000 }).drain();

    for (const [i, path] of ["/eq/a", "/eq/b"].entries()) {
      const [request] = at(path);
      expect(request, path).toBeDefined();
      expect(request!.headers["x-mon1tor-sha256-wh"]).toBe(crypto.createHmac("sha256", endpoints[i]!.secret).update(request!.body).digest("hex"));
      expect(JSON.parse(request!.body)).toMatchObject({ id: eventId, type: "alert.triggered" });
      expect(deliveryIds).toContain(request!.headers["webhook-id"]);
    }
    const deliveries = await deliveriesOf(team.id);
    expect(deliveries.map((d) => d.id).sort()).toEqual([...deliveryIds].sort());
    for (const d of deliveries) {
      expect(d).toMatchObject({ status: "delivered", attempts: 1, lastStatusCode: 200, nextAttemptAt: null, leaseExpiresAt: null, eventId });
      expect(d.attemptLog).toMatchObject([{ number: 1, statusCode: 200, responseExcerpt: "ok" }]);
    }
    expect(await queueRows(team.id)).toEqual([]);
    const health = await db.webhookEndpoint.findMany({ where: { teamId: team.id }, select: { consecutiveFailures: true, healthHours: { select: { attempts: true, succeeded: true } } } });
    expect(health).toEqual([
      { consecutiveFailures: 0, healthHours: [{ attempts: 1, succeeded: 1 }] },
      { consecutiveFailures: 0, healthHours: [{ attempts: 1, succeeded: 1 }] },
    ]);
  });

  it("stores a 2xx body exactly, whatever COPY's text format makes of its characters", async () => {
    // Written by COPY (writeDelivered): backslashes, tabs, line ends and COPY's own markers (\N for
    // null, \. for the end of data) must arrive as they were sent.
    const body = "line 1\nline 2\ttabbed \\ back\\slash\r\n\\N\n\\.\n\\\\t end\\";
    receiver.respond(() => ({ status: 200, body }));
    const { team } = await alertFor(["/eq/copy/1", "/eq/copy/2"]);
    // Written by COPY, not rescued by the row-by-row writing of a batch PostgreSQL refused (which says so for a batch of two).
    const errors = vi.spyOn(console, "error");
    await new Dispatcher({ eventQueue: true, timeoutMs: 2_000 }).drain();
    expect(errors.mock.calls.flat().filter((m) => String(m).includes("one by one"))).toEqual([]);
    errors.mockRestore();
    const deliveries = await deliveriesOf(team.id);
    expect(deliveries).toHaveLength(2);
    for (const delivery of deliveries) {
      expect(delivery).toMatchObject({ status: "delivered", lastError: null, alertId: expect.any(String), sequence: 1 });
      expect(delivery.attemptLog).toMatchObject([{ number: 1, statusCode: 200, errorClass: null, errorMessage: null, responseExcerpt: body }]);
    }
  });

  it("copyField: COPY's text format, null as \\N, its four special characters escaped", () => {
    expect(copyField(null)).toBe("\\N");
    expect(copyField(42)).toBe("42");
    expect(copyField("plain")).toBe("plain");
    expect(copyField("a\tb\\c\nd\re\\N")).toBe("a\\tb\\\\c\\nd\\re\\\\N");
  });

  it("lists what waits in the event queue in the endpoint's delivery log as pending, and opens its page", async () => {
    const { team, endpoints, deliveryIds, eventId } = await alertFor(["/eq/log"]);
    const endpointId = endpoints[0]!.endpoint.id;
    // An older delivery that has its row already: a test event's.
    const older = await db.$transaction((tx) => ingestAlert(tx, team, { title: "Older", severity: "info", status: "triggered" }, new Date(Date.now() - 60_000)));

    for (const filter of [{}, { status: "pending" as const }]) {
      const { rows } = await listDeliveries(team.id, endpointId, filter);
      expect(rows.map((r) => [r.id, r.status])).toEqual([
        [deliveryIds[0], "pending"],
        [older.deliveryIds[0], "pending"],
      ]);
      expect(rows[0]!.event).toMatchObject({ type: "alert.triggered", alert: { title: "Disk full" } });
    }
    expect((await listDeliveries(team.id, endpointId, { status: "delivered" })).rows).toEqual([]);
    // Paging past a queued one.
    expect((await listDeliveries(team.id, endpointId, { before: deliveryIds[0] })).rows.map((r) => r.id)).toEqual([older.deliveryIds[0]]);

    const detail = await getDeliveryDetail(team.id, endpointId, deliveryIds[0]!);
    expect(detail).toMatchObject({ id: deliveryIds[0], status: "pending", attempts: 0, attemptLog: [], event: { id: eventId, type: "alert.triggered" } });
    expect(JSON.parse(detail.event.body)).toMatchObject({ id: eventId });
    // Another team's endpoint does not see it.
    const stranger = await createTeam();
    await expect(getDeliveryDetail(stranger.id, endpointId, deliveryIds[0]!)).rejects.toThrow("does not exist");
  });

  it("writes a failed attempt as a queued row, retried on its schedule like any other", async () => {
    receiver.respond((r) => ({ status: r.path === "/eq/flaky" ? 503 : 200 }));
    const { team, endpoints } = await alertFor(["/eq/fine", "/eq/flaky"]);
    await new Dispatcher({ eventQueue: true, timeoutMs: 2_000, random: () => 0.5 }).drain();

    const flaky = await db.delivery.findFirstOrThrow({ where: { endpointId: endpoints[1]!.endpoint.id }, include: { attemptLog: true } });
    expect(flaky).toMatchObject({ status: "retrying", attempts: 1, lastStatusCode: 503 });
    expect(flaky.nextAttemptAt).not.toBeNull();
    expect(flaky.attemptLog).toMatchObject([{ number: 1, statusCode: 503 }]);
    expect(await db.delivery.findFirstOrThrow({ where: { endpointId: endpoints[0]!.endpoint.id } })).toMatchObject({ status: "delivered" });
    expect(await queueRows(team.id)).toEqual([]);

    receiver.respond(() => ({ status: 200 }));
    await new Dispatcher({ eventQueue: true, timeoutMs: 2_000, clock: new TestClock(new Date(flaky.nextAttemptAt!.getTime() + 1_000)) }).drain();
    expect(await db.delivery.findFirstOrThrow({ where: { id: flaky.id } })).toMatchObject({ status: "delivered", attempts: 2 });
    expect(at("/eq/flaky").map((r) => r.headers["webhook-id"])).toEqual([flaky.id, flaky.id]);
  });

  it("does not send to an endpoint paused after the alert was queued: its delivery waits as a queued row", async () => {
    receiver.respond(() => ({ status: 200 }));
    const { team, endpoints } = await alertFor(["/eq/on", "/eq/paused"]);
    await db.webhookEndpoint.update({ where: { id: endpoints[1]!.endpoint.id }, data: { status: "paused" } });

    await new Dispatcher({ eventQueue: true, timeoutMs: 2_000 }).drain();

    expect(at("/eq/paused")).toEqual([]);
    expect(at("/eq/on")).toHaveLength(1);
    const deliveryTo = (i: number) => db.delivery.findFirstOrThrow({ where: { endpointId: endpoints[i]!.endpoint.id } });
    expect(await deliveryTo(0)).toMatchObject({ status: "delivered", attempts: 1 });
    const paused = await deliveryTo(1);
    expect(paused).toMatchObject({ status: "pending", attempts: 0 });
    expect(paused.nextAttemptAt).not.toBeNull();
    expect(await queueRows(team.id)).toEqual([]);
  });

  it("sends again, with the same webhook-id, what a claim whose lease ran out never recorded; the lost attempt counts", async () => {
    receiver.respond(() => ({ status: 200 }));
    const { team, deliveryIds } = await alertFor(["/eq/lease"]);
    const start = new Date();
    // A worker claims the row and dies before recording anything.
    const first = await claimEvents(pool, { now: start, limit: 10, leaseMs: 60_000, room: () => 64 });
    expect(first.deliveries.map((d) => d.id)).toEqual(deliveryIds);

    const later = new TestClock(new Date(start.getTime() + 61_000));
    await new Dispatcher({ eventQueue: true, timeoutMs: 2_000, clock: later }).drain();

    expect(at("/eq/lease").map((r) => r.headers["webhook-id"])).toEqual(deliveryIds);
    const [delivery] = await deliveriesOf(team.id);
    expect(delivery).toMatchObject({ id: deliveryIds[0], status: "delivered", attempts: 2 });
    expect(delivery!.attemptLog).toMatchObject([{ number: 2, statusCode: 200 }]);
    expect(await queueRows(team.id)).toEqual([]);
  });

  it("holds an alert's resolved state back while its triggered state waits in the event queue", async () => {
    receiver.respond(() => ({ status: 200 }));
    const { team, endpoints } = await alertFor(["/eq/order"], { dedupKey: "db-1" });
    // Every state wanted: the triggered one is not superseded by the resolved one.
    await db.webhookEndpoint.update({ where: { id: endpoints[0]!.endpoint.id }, data: { skipOutdatedStates: false } });
    await db.$transaction((tx) => ingestAlert(tx, team, { title: "Disk full", severity: "critical", status: "resolved", dedupKey: "db-1" }));

    // A dispatcher that claims queued rows only: the resolved state's row is not due before the triggered one is sent.
    await new Dispatcher({ eventQueue: false, timeoutMs: 2_000 }).drain();
    expect(at("/eq/order")).toEqual([]);

    await new Dispatcher({ eventQueue: true, timeoutMs: 2_000 }).drain();
    await new Dispatcher({ eventQueue: true, timeoutMs: 2_000 }).drain();
    expect(at("/eq/order").map((r) => JSON.parse(r.body).type)).toEqual(["alert.triggered", "alert.resolved"]);
  });

  it("supersedes an alert's triggered state still in the event queue when its resolved state comes, where the endpoint skips outdated states", async () => {
    receiver.respond(() => ({ status: 200 }));
    const { team, endpoints, deliveryIds } = await alertFor(["/eq/skip", "/eq/keep"], { dedupKey: "db-2" });
    const keep = endpoints[1]!.endpoint.id;
    await db.webhookEndpoint.update({ where: { id: keep }, data: { skipOutdatedStates: false } });
    const resolved = await db.$transaction((tx) => ingestAlert(tx, team, { title: "Disk full", severity: "critical", status: "resolved", dedupKey: "db-2" }));
    expect(resolved.superseded).toBe(1);

    const skipped = await db.delivery.findFirstOrThrow({ where: { endpointId: endpoints[0]!.endpoint.id, status: "superseded" } });
    expect(deliveryIds).toContain(skipped.id);
    expect(skipped).toMatchObject({ supersededById: resolved.eventId, attempts: 0, nextAttemptAt: null });
    expect(await queueRows(team.id)).toMatchObject([{ endpointIds: [keep] }]);

    await new Dispatcher({ eventQueue: true, timeoutMs: 2_000 }).drain();
    await new Dispatcher({ eventQueue: true, timeoutMs: 2_000 }).drain();
    expect(at("/eq/skip").map((r) => JSON.parse(r.body).type)).toEqual(["alert.resolved"]);
    expect(at("/eq/keep").map((r) => JSON.parse(r.body).type)).toEqual(["alert.triggered", "alert.resolved"]);
  });

  it("a batch written again (its COMMIT sent, the answer lost) leaves one row and one attempt per delivery, each counted once", async () => {
    const { team, deliveryIds } = await alertFor(["/eq/again/0", "/eq/again/1"]);
    const { deliveries } = await claimEvents(pool, { now: null, limit: 10, leaseMs: 60_000, room: () => 64 });
    const mine = deliveries.filter((d) => deliveryIds.includes(d.id));
    expect(mine).toHaveLength(2);
    const ok = { ok: true, statusCode: 200, errorClass: null, reason: null, durationMs: 7, responseExcerpt: "ok", retryAfterSeconds: null };
    const outcomes = mine.map((delivery) => ({ delivery, startedAt: new Date(), result: ok }));
    const options = { policy: failurePolicyFromEnv(), now: null, random: () => 0.5 };
    expect(await recordOutcomes(pool, outcomes, options)).toEqual([]);
    expect(await recordOutcomes(pool, outcomes, options)).toEqual([]);

    const rows = await deliveriesOf(team.id);
    expect(rows.map((d) => [d.status, d.attempts, d.attemptLog.length])).toEqual([["delivered", 1, 1], ["delivered", 1, 1]]);
    const health = await db.endpointHealthHour.findMany({ where: { endpoint: { teamId: team.id } } });
    expect(health.map((h) => [h.attempts, h.succeeded])).toEqual([[1, 1], [1, 1]]);
    expect(await queueRows(team.id)).toEqual([]);
  });

  it("vacuums the queue once a worker has removed enough of its rows, and not for a few", async () => {
    receiver.respond(() => ({ status: 200 }));
    const { team } = await alertFor(["/eq/vacuum"]);
    await moreAlerts(team, 9);
    const vacuums = async () =>
      (await pool.query<{ n: number }>(`SELECT vacuum_count::int AS n FROM pg_stat_user_tables WHERE relname = 'EventQueue'`)).rows[0]!.n;
    const before = await vacuums();
    await new Dispatcher({ eventQueue: true, timeoutMs: 2_000 }).drain();
    expect(await queueRows(team.id)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await vacuums()).toBe(before);
    await moreAlerts(team, 10);
    await new Dispatcher({ eventQueue: true, timeoutMs: 2_000, queueVacuum: { rows: 10, everyMs: 0 } }).drain();
    await expect.poll(vacuums, { timeout: 10_000 }).toBe(before + 1);
    expect(await queueRows(team.id)).toEqual([]);
  });

  it("a delivery whose result cannot be written is quarantined; the event's others are recorded once and nothing is sent twice", async () => {
    receiver.respond(() => ({ status: 200 }));
    const paths = Array.from({ length: 4 }, (_, i) => `/eq/poison/${i}`);
    const { team, endpoints } = await alertFor(paths);
    const poisoned = endpoints[2]!.endpoint.id;
    // By the delivery id the queue row fixed: a delivered row and its attempt are written by one
    // statement, whose trigger would not see the row.
    const [queued] = await queueRows(team.id);
    const poisonedDelivery = queued!.deliveryIds[queued!.endpointIds.indexOf(poisoned)]!;
    await pool.query(`
      CREATE OR REPLACE FUNCTION poison_queued() RETURNS trigger AS $$
      BEGIN
        IF NEW."deliveryId" = '${poisonedDelivery}' THEN RAISE EXCEPTION 'injected failure for this row'; END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql;
      CREATE TRIGGER poison_queued BEFORE INSERT ON "DeliveryAttempt" FOR EACH ROW EXECUTE FUNCTION poison_queued();`);
    const clock = new TestClock(new Date());
    try {
      const dispatcher = new Dispatcher({ eventQueue: true, clock, timeoutMs: 2_000, random: () => 0.5 });
      await dispatcher.drain();
      // Well past the lease: anything left claimed would be claimed and sent again now.
      clock.advance(dispatcher.leaseMs * 3);
      await dispatcher.drain();
    } finally {
      await pool.query(`DROP TRIGGER poison_queued ON "DeliveryAttempt"; DROP FUNCTION poison_queued();`);
    }
    for (const path of paths) expect(at(path), path).toHaveLength(1);
    const rows = await deliveriesOf(team.id);
    expect(rows).toHaveLength(4);
    for (const d of rows.filter((d) => d.endpointId !== poisoned)) expect(d).toMatchObject({ status: "delivered", attempts: 1, attemptLog: [{ number: 1 }] });
    expect(rows.find((d) => d.endpointId === poisoned)).toMatchObject({
      status: "failed",
      nextAttemptAt: null,
      leaseExpiresAt: null,
      attemptLog: [],
      lastError: "quarantined: the result of attempt 1 could not be stored (injected failure for this row)",
    });
    expect(await queueRows(team.id)).toEqual([]);
  });

  it("sends a backlog for an endpoint at its in-flight limit from the worker's waiting room, writing no delivery as a queued row", async () => {
    receiver.respond(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { status: 200 };
    });
    const first = await alertFor(["/eq/busy"]);
    const endpointId = first.endpoints[0]!.endpoint.id;
    await moreAlerts(first.team, 29);
    // Every Delivery row written queued (pending), as the fast path never writes one.
    await pool.query(`CREATE TABLE IF NOT EXISTS eq_queued_rows (id text); TRUNCATE eq_queued_rows;
      CREATE OR REPLACE FUNCTION eq_note_queued() RETURNS trigger AS $$ BEGIN INSERT INTO eq_queued_rows VALUES (NEW.id); RETURN NEW; END $$ LANGUAGE plpgsql;
      CREATE TRIGGER eq_note_queued AFTER INSERT ON "Delivery" FOR EACH ROW WHEN (NEW.status = 'pending' AND NEW."endpointId" = '${endpointId}') EXECUTE FUNCTION eq_note_queued();`);
    try {
      // Four in flight at most: the other 26 wait their turn in the worker.
      await new Dispatcher({ eventQueue: true, timeoutMs: 2_000, perEndpoint: 4 }).drain();
    } finally {
      await pool.query(`DROP TRIGGER eq_note_queued ON "Delivery"; DROP FUNCTION eq_note_queued();`);
    }
    expect(at("/eq/busy")).toHaveLength(30);
    const rows = await deliveriesOf(first.team.id);
    expect(rows.map((d) => `${d.status} ${d.attempts} ${d.attemptLog.length}`)).toEqual(Array(30).fill("delivered 1 1"));
    expect((await pool.query(`SELECT count(*)::int AS n FROM eq_queued_rows`)).rows[0].n).toBe(0);
    expect(await queueRows(first.team.id)).toEqual([]);
  });

  it("a drain stopped while deliveries wait in the worker gives them back as queued rows, their attempt not counted", async () => {
    const release = holdAnswers("/eq/stop");
    const first = await alertFor(["/eq/stop"]);
    const endpointId = first.endpoints[0]!.endpoint.id;
    await moreAlerts(first.team, 2);

    const stop = new AbortController();
    // Two in flight (its limit), the third waiting in the worker for one of them.
    const draining = new Dispatcher({ eventQueue: true, timeoutMs: 5_000, perEndpoint: 2 }).drain({ signal: stop.signal });
    for (let i = 0; i < 100 && at("/eq/stop").length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(at("/eq/stop")).toHaveLength(2);
    stop.abort();
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await draining;

    const rows = await deliveriesOf(first.team.id);
    expect(rows.map((d) => `${d.status} ${d.attempts}`).sort()).toEqual(["delivered 1", "delivered 1", "pending 0"]);
    // Given back due now, for any worker: not leased, not parked.
    const pending = rows.find((d) => d.status === "pending")!;
    expect(pending).toMatchObject({ leaseExpiresAt: null, attemptLog: [] });
    expect(pending.nextAttemptAt!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await queueRows(first.team.id)).toEqual([]);
    expect(at("/eq/stop")).toHaveLength(2);
    await new Dispatcher({ eventQueue: true, timeoutMs: 2_000 }).drain();
    expect(at("/eq/stop")).toHaveLength(3);
    expect(await db.delivery.count({ where: { endpointId, status: "delivered" } })).toBe(3);
  });

  it("a hanging endpoint at its in-flight limit does not hold back its team's other endpoint: its share is written as queued rows", async () => {
    let hanging = 0;
    receiver.respond((r) => {
      if (r.path !== "/eq/hang") return { status: 200 };
      hanging += 1;
      return "hang";
    });
    const first = await alertFor(["/eq/beside-hang", "/eq/hang"]);
    await moreAlerts(first.team, 11);
    const [fine, hang] = [first.endpoints[0]!.endpoint.id, first.endpoints[1]!.endpoint.id];

    const dispatcher = new Dispatcher({ eventQueue: true, timeoutMs: 4_000, perEndpoint: 2 });
    const draining = dispatcher.drain();
    // All twelve reach the healthy endpoint while the hanging one's first two attempts still hang.
    for (let i = 0; i < 200 && at("/eq/beside-hang").length < 12; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(at("/eq/beside-hang")).toHaveLength(12);
    expect(hanging).toBe(2);
    // The hanging endpoint's other ten wait as queued rows, for its room, as every delivery did before.
    const waiting = await db.delivery.findMany({ where: { endpointId: hang, status: "pending", leaseExpiresAt: null } });
    expect(waiting.length).toBeGreaterThanOrEqual(8);
    receiver.respond(() => ({ status: 200 }));
    await draining;
    expect(await db.delivery.count({ where: { endpointId: fine, status: "delivered" } })).toBe(12);
  }, 20_000);

  it("writes a slow endpoint's delivery as a leased row, and records the event's other deliveries without waiting for it", async () => {
    const release = holdAnswers("/eq/slow");
    const { team, endpoints } = await alertFor(["/eq/quick", "/eq/slow"]);
    const draining = new Dispatcher({ eventQueue: true, timeoutMs: 10_000 }).drain();

    const quickId = endpoints[0]!.endpoint.id;
    const slowId = endpoints[1]!.endpoint.id;
    // Polled, not timed: the quick one is written delivered while the slow one is still in flight.
    let rows = await deliveriesOf(team.id);
    for (let i = 0; i < 100 && !rows.some((d) => d.endpointId === quickId && d.status === "delivered"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      rows = await deliveriesOf(team.id);
    }
    expect(rows.find((d) => d.endpointId === quickId)).toMatchObject({ status: "delivered", attempts: 1 });
    const slow = rows.find((d) => d.endpointId === slowId);
    expect(slow).toMatchObject({ status: "pending", attempts: 1 });
    expect(slow!.leaseExpiresAt).not.toBeNull();
    expect(await queueRows(team.id)).toEqual([]);

    release();
    await draining;
    expect(await db.delivery.findFirstOrThrow({ where: { endpointId: slowId }, include: { attemptLog: true } })).toMatchObject({
      status: "delivered",
      attempts: 1,
      leaseExpiresAt: null,
      attemptLog: [{ number: 1, statusCode: 200 }],
    });
    expect(at("/eq/slow")).toHaveLength(1);
  });
});
