// Recording cannot be poisoned: a batch write that fails is retried row by row, the row
// that cannot be written is quarantined, and nothing is ever sent twice because of it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db, pool } from "@/lib/db";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { claimDeliveries, EXHAUSTED_REASON } from "@/lib/webhooks/delivery/claim";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { failurePolicyFromEnv } from "@/lib/webhooks/delivery/failure";
import { metrics } from "@/lib/metrics/metrics";
import { recordBatch } from "@/lib/webhooks/delivery/record";
import { TestClock } from "@/lib/testing/clock";


let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver(() => ({ status: 200, body: "ok" }));
});
afterAll(() => receiver.close());

async function queue(prefix: string, endpoints: number, clock: TestClock) {
  const team = await createTeam();
  for (let i = 0; i < endpoints; i++) await createActiveEndpoint(team.id, `${receiver.url}/${prefix}/${i}`);
  const accepted = await db.$transaction((tx) => ingestAlert(tx, team, { title: "disk full", severity: "warning", status: "triggered" }, clock.now()));
  return accepted.deliveryIds;
}

const receivedFor = (prefix: string) => receiver.requests.filter((r) => r.path.startsWith(`/${prefix}/`)).map((r) => String(r.headers["webhook-id"]));

describe("recording", () => {
  it("a batch written again (its COMMIT sent, the answer lost) leaves one attempt row per attempt and counts each once", async () => {
    const clock = new TestClock();
    const ids = await queue("again", 2, clock);
    const { deliveries } = await claimDeliveries(pool, { now: clock.now(), limit: 10, leaseMs: 60_000, inFlight: new Map(), perEndpoint: 64, ids });
    expect(deliveries).toHaveLength(2);
    // One delivered, one failed (it will be retried).
    const results = [
      { ok: true, statusCode: 200, errorClass: null, reason: null, durationMs: 12, responseExcerpt: "ok", retryAfterSeconds: null },
      { ok: false, statusCode: 500, errorClass: "http_status" as const, reason: "answered 500 Internal Server Error", durationMs: 9, responseExcerpt: null, retryAfterSeconds: null },
    ];
    const outcomes = deliveries.map((delivery, i) => ({ delivery, startedAt: clock.now(), result: results[i]! }));
    const options = { policy: failurePolicyFromEnv(), now: clock.now(), random: () => 0.5 };
    await recordBatch(pool, outcomes, options);
    await recordBatch(pool, outcomes, options);
    const attempts = await db.deliveryAttempt.findMany({ where: { deliveryId: { in: ids } } });
    expect(attempts.map((a) => [a.deliveryId, a.number]).sort()).toEqual(ids.map((id) => [id, 1]).sort());
    expect(await db.delivery.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } })).toEqual(
      expect.arrayContaining([{ id: deliveries[0]!.id, status: "delivered" }, { id: deliveries[1]!.id, status: "retrying" }]),
    );
    // The endpoints' health and failure counters saw each attempt once.
    const health = await db.endpointHealthHour.findMany({ where: { endpointId: { in: deliveries.map((d) => d.endpointId) } } });
    expect(health.map((h) => [h.endpointId, h.attempts, h.succeeded]).sort()).toEqual(
      [[deliveries[0]!.endpointId, 1, 1], [deliveries[1]!.endpointId, 1, 0]].sort(),
    );
    const failing = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: deliveries[1]!.endpointId } });
    expect(failing.consecutiveFailures).toBe(1);
  });

  it("a row that cannot be written is quarantined; its neighbours are recorded exactly once and nothing is sent twice", async () => {
    const clock = new TestClock();
    const ids = await queue("poison", 6, clock);
    const poisoned = ids[2]!;
    // A real failure inside PostgreSQL, for one row of the batch only.
    await pool.query(`
      CREATE OR REPLACE FUNCTION poison_attempt() RETURNS trigger AS $$
      BEGIN
        IF NEW."deliveryId" = '${poisoned}' THEN RAISE EXCEPTION 'injected failure for this row'; END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql;
      CREATE TRIGGER poison_attempt BEFORE INSERT ON "DeliveryAttempt" FOR EACH ROW EXECUTE FUNCTION poison_attempt();`);
    try {
      const dispatcher = new Dispatcher({ clock, timeoutMs: 2_000, random: () => 0.5 });
      await dispatcher.drain();
      // Well past the lease: a delivery left claimed would be claimed and sent again now.
      clock.advance(dispatcher.leaseMs * 3);
      await dispatcher.drain();
      clock.advance(24 * 3600 * 1000);
      await dispatcher.drain();
    } finally {
      await pool.query(`DROP TRIGGER poison_attempt ON "DeliveryAttempt"; DROP FUNCTION poison_attempt();`);
    }

    const received = receivedFor("poison");
    expect(received.sort()).toEqual([...ids].sort());
    const deliveries = await db.delivery.findMany({ where: { id: { in: ids } }, include: { attemptLog: true } });
    for (const delivery of deliveries.filter((d) => d.id !== poisoned)) {
      expect(delivery).toMatchObject({ status: "delivered", attempts: 1, leaseExpiresAt: null, nextAttemptAt: null });
      expect(delivery.attemptLog).toHaveLength(1);
    }
    const quarantined = deliveries.find((d) => d.id === poisoned)!;
    expect(quarantined).toMatchObject({ status: "failed", nextAttemptAt: null, leaseExpiresAt: null, attemptLog: [] });
    expect(quarantined.lastError).toBe("quarantined: the result of attempt 1 could not be stored (injected failure for this row)");
  });

  it("the claim refuses a delivery at its attempt cap and marks it failed instead of sending it", async () => {
    const clock = new TestClock();
    const [id] = await queue("capped", 1, clock);
    // As after a worker died while holding the last allowed attempt: the lease ran out.
    await db.delivery.update({ where: { id: id! }, data: { attempts: 8, maxAttempts: 8, status: "retrying" } });
    const { teamId } = await db.delivery.findUniqueOrThrow({ where: { id: id! } });
    const failed = async () => (await metrics().deliveries.get()).values.find((v) => v.labels.outcome === "failed" && v.labels.team === teamId)?.value ?? 0;
    await new Dispatcher({ clock, timeoutMs: 2_000 }).drain();
    expect(receivedFor("capped")).toHaveLength(0);
    // Given up in the claim: counted as a failed delivery, for its team.
    expect(await failed()).toBe(1);
    expect(await db.delivery.findUniqueOrThrow({ where: { id: id! } })).toMatchObject({ status: "failed", nextAttemptAt: null, lastError: EXHAUSTED_REASON });
  });

  it("a redelivery gets one more attempt than it had, and no retries beyond it", async () => {
    const clock = new TestClock();
    receiver.respond((r) => (r.path.startsWith("/redeliver/") ? { status: 500 } : { status: 200 }));
    const [id] = await queue("redeliver", 1, clock);
    await db.delivery.update({ where: { id: id! }, data: { attempts: 8, status: "failed", nextAttemptAt: clock.now(), maxAttempts: 9 } });
    await new Dispatcher({ clock, timeoutMs: 2_000, random: () => 0.5 }).drain();
    clock.advance(24 * 3600 * 1000);
    await new Dispatcher({ clock, timeoutMs: 2_000 }).drain();
    expect(receivedFor("redeliver")).toHaveLength(1);
    expect(await db.delivery.findUniqueOrThrow({ where: { id: id! } })).toMatchObject({ status: "failed", attempts: 9, nextAttemptAt: null });
    receiver.respond(() => ({ status: 200, body: "ok" }));
  });

  it("without an explicit clock, leases are set on PostgreSQL's clock", async () => {
    receiver.respond(() => "hang");
    const clock = new TestClock(new Date());
    const [id] = await queue("lease", 1, clock);
    const dispatcher = new Dispatcher({ timeoutMs: 1_000 });
    const draining = dispatcher.drain();
    await receiver.waitFor(receiver.requests.length + 1);
    const { rows } = await pool.query<{ lease: Date; dbNow: Date }>(
      `SELECT "leaseExpiresAt" AS lease, now() AT TIME ZONE 'UTC' AS "dbNow" FROM "Delivery" WHERE id = $1`,
      [id],
    );
    await draining;
    receiver.respond(() => ({ status: 200, body: "ok" }));
    const leaseFromDbNow = rows[0]!.lease.getTime() - rows[0]!.dbNow.getTime();
    // Within the lease of database time from now, not a timestamp from this process.
    expect(leaseFromDbNow).toBeGreaterThan(0);
    expect(leaseFromDbNow).toBeLessThanOrEqual(dispatcher.leaseMs);
  });
});

describe("bounded buffer", () => {
  it("while results cannot be written, the worker stops claiming at its buffer cap; once they can, each is recorded once", async () => {
    const clock = new TestClock();
    const team = await createTeam();
    await createActiveEndpoint(team.id, `${receiver.url}/buffer/0`);
    const ids = await db.$transaction(async (tx) => {
      const all: string[] = [];
      for (let i = 0; i < 10; i++) all.push(...(await ingestAlert(tx, team, { title: `b${i}`, severity: "info", status: "triggered" }, clock.now())).deliveryIds);
      return all;
    });
    // A connection-class failure (SQLSTATE 08006) on every attempt row: the database "is away" for recording only.
    await pool.query(`
      CREATE OR REPLACE FUNCTION away() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'connection failure' USING ERRCODE = '08006'; END $$ LANGUAGE plpgsql;
      CREATE TRIGGER away BEFORE INSERT ON "DeliveryAttempt" FOR EACH ROW EXECUTE FUNCTION away();`);
    const dispatcher = new Dispatcher({ clock, timeoutMs: 2_000, concurrency: 1, batchSize: 1, maxBuffered: 3 });
    try {
      await dispatcher.drain({ ids });
      expect(receivedFor("buffer")).toHaveLength(3);
      expect(dispatcher.buffered).toBe(3);
    } finally {
      await pool.query(`DROP TRIGGER away ON "DeliveryAttempt"; DROP FUNCTION away();`);
    }
    await dispatcher.drain({ ids });
    expect(receivedFor("buffer").sort()).toEqual([...ids].sort());
    expect(await db.delivery.count({ where: { id: { in: ids }, status: "delivered", attempts: 1 } })).toBe(10);
    expect(await db.deliveryAttempt.count({ where: { deliveryId: { in: ids } } })).toBe(10);
  });
});
