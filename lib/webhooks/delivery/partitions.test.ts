// The history's day partitions (prisma/migrations/20261203220000_partitioned_history and
// lib/webhooks/delivery/retention.ts): made ahead, dropped whole, never with a queued delivery,
// and read as one table across midnight.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { createPool, db, pool } from "@/lib/db";
import { claimDeliveries } from "@/lib/webhooks/delivery/claim";
import { TestClock } from "@/lib/testing/clock";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { ensureHistoryPartitions, historyPartitions, purgeHistory, PARTITION_DAYS_AHEAD } from "@/lib/webhooks/delivery/retention";
import { getDeliveryDetail, listDeliveries } from "@/lib/webhooks/endpoints/queries";

const DAY = 24 * 3600 * 1000;
/** Midnight (UTC) `days` days from today. */
const midnight = (days: number) => new Date(Math.floor(Date.now() / DAY) * DAY + days * DAY);
const dayName = (table: string, at: Date) => `${table}_p${at.toISOString().slice(0, 10).replaceAll("-", "")}`;

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

async function alertAt(team: { id: string; name: string }, at: Date) {
  return db.$transaction((tx) => ingestAlert(tx, team, { title: `at ${at.toISOString()}`, severity: "info", status: "triggered" }, at));
}

describe("partitioned history", () => {
  it("makes the days ahead, idempotently, for all three tables", async () => {
    await ensureHistoryPartitions(pool);
    expect(await ensureHistoryPartitions(pool)).toBe(0);
    const names = new Set((await historyPartitions(pool)).map((p) => p.name));
    for (const table of ["Event", "Delivery", "DeliveryAttempt"]) {
      for (let day = 1; day <= PARTITION_DAYS_AHEAD; day++) expect(names).toContain(dayName(table, midnight(day)));
    }
    // Two processes at once (the worker and the cron route): neither fails, nothing is made twice.
    const later = midnight(20);
    const made = await Promise.all([ensureHistoryPartitions(pool, later), ensureHistoryPartitions(pool, later)]);
    expect(made.sort()).toEqual([0, 3 * (PARTITION_DAYS_AHEAD + 2)]);
  });

  it("keeps a delivery that crossed midnight whole: its attempts on both days, its page, and its retry", async () => {
    const team = await createTeam();
    const { endpoint } = await createActiveEndpoint(team.id, `${receiver.url}/midnight`);
    const beforeMidnight = new Date(midnight(2).getTime() - 500);
    const accepted = await alertAt(team, beforeMidnight);
    let answer = 500;
    receiver.respond(() => ({ status: answer, body: "" }));
    const clock = new TestClock(new Date(beforeMidnight.getTime() + 200));
    await new Dispatcher({ clock, random: () => 0.5 }).drain();
    clock.set(new Date(midnight(2).getTime() + 30_000));
    answer = 200;
    await new Dispatcher({ clock, random: () => 0.5 }).drain();

    const deliveryId = accepted.deliveryIds[0]!;
    const tables = await pool.query<{ table: string; n: number }>(
      `SELECT tableoid::regclass::text AS table, count(*)::int AS n FROM "DeliveryAttempt" WHERE "deliveryId" = $1 GROUP BY 1 ORDER BY 1`,
      [deliveryId],
    );
    expect(tables.rows).toEqual([
      { table: `"${dayName("DeliveryAttempt", midnight(1))}"`, n: 1 },
      { table: `"${dayName("DeliveryAttempt", midnight(2))}"`, n: 1 },
    ]);
    const detail = await getDeliveryDetail(team.id, endpoint.id, deliveryId);
    expect(detail).toMatchObject({ status: "delivered", attempts: 2 });
    expect(detail!.attemptLog.map((a) => a.statusCode)).toEqual([200, 500]);
    const page = await listDeliveries(team.id, endpoint.id, {});
    expect(page.rows.map((d) => d.id)).toContain(deliveryId);
  });

  it("cascades as the foreign keys did: deleting an endpoint's deliveries deletes their attempts", async () => {
    const team = await createTeam();
    const { endpoint } = await createActiveEndpoint(team.id, "https://example.com/cascade");
    const accepted = await alertAt(team, new Date());
    await pool.query(
      `INSERT INTO "DeliveryAttempt" ("deliveryId", number, "startedAt", "durationMs", "statusCode") VALUES ($1, 1, now() AT TIME ZONE 'UTC', 5, 500)`,
      [accepted.deliveryIds[0]],
    );
    await db.webhookEndpoint.delete({ where: { id: endpoint.id } });
    expect(await db.deliveryAttempt.count({ where: { deliveryId: accepted.deliveryIds[0] } })).toBe(0);
    // And deleting a team's events deletes their deliveries.
    const other = await createActiveEndpoint(team.id, "https://example.com/cascade-2");
    const second = await alertAt(team, new Date());
    await db.event.deleteMany({ where: { id: second.eventId! } });
    expect(await db.delivery.count({ where: { endpointId: other.endpoint.id } })).toBe(0);
  });
  // Last: it drops every day up to four days ahead, today's included.
  it("drops whole days past the window, never a day at or after a queued delivery, and their attempts and events with them", async () => {
    const team = await createTeam();
    const { endpoint } = await createActiveEndpoint(team.id, "https://example.com/partitioned");
    const finished = await alertAt(team, new Date(midnight(1).getTime() + 3_600_000));
    const queued = await alertAt(team, new Date(midnight(2).getTime() + 3_600_000));
    const later = await alertAt(team, new Date(midnight(3).getTime() + 3_600_000));
    for (const done of [finished, later]) {
      await pool.query(`UPDATE "Delivery" SET status = 'delivered', "nextAttemptAt" = NULL WHERE id = $1`, [done.deliveryIds[0]]);
      await pool.query(
        `INSERT INTO "DeliveryAttempt" ("deliveryId", number, "startedAt", "durationMs", "statusCode") SELECT id, 1, "createdAt", 5, 200 FROM "Delivery" WHERE id = $1`,
        [done.deliveryIds[0]],
      );
    }
    const exists = async (name: string) => (await pool.query(`SELECT to_regclass($1) AS r`, [`"${name}"`])).rows[0].r !== null;

    // Thirty days after the first day ended: that day (and everything before it) goes, whole.
    const first = await purgeHistory(pool, 30, new Date(midnight(2).getTime() + 30 * DAY + 60_000));
    expect(first.daysDropped).toBeGreaterThanOrEqual(3);
    expect(first.daysKept).toBe(0);
    for (const table of ["Event", "Delivery", "DeliveryAttempt"]) expect(await exists(dayName(table, midnight(1)))).toBe(false);
    expect(await db.delivery.findFirst({ where: { id: finished.deliveryIds[0] } })).toBeNull();
    expect(await db.event.findFirst({ where: { id: finished.eventId! } })).toBeNull();
    expect(await db.deliveryAttempt.count({ where: { deliveryId: finished.deliveryIds[0] } })).toBe(0);
    // The alert itself is kept.
    expect(await db.alert.findUnique({ where: { id: finished.alertId } })).not.toBeNull();

    // Past the next two days too: both stay, because the first of them holds a queued delivery.
    const second = await purgeHistory(pool, 30, new Date(midnight(4).getTime() + 30 * DAY + 60_000));
    expect(second.daysDropped).toBe(0);
    expect(second.daysKept).toBe(6);
    expect(await db.delivery.findFirst({ where: { id: queued.deliveryIds[0] } })).toMatchObject({ status: "pending" });
    expect(await db.event.findFirst({ where: { id: queued.eventId! } })).not.toBeNull();
    expect(await db.delivery.findFirst({ where: { id: later.deliveryIds[0] } })).not.toBeNull();

    // Once it is finished, both days go.
    await pool.query(`UPDATE "Delivery" SET status = 'failed', "nextAttemptAt" = NULL WHERE id = $1`, [queued.deliveryIds[0]]);
    const third = await purgeHistory(pool, 30, new Date(midnight(4).getTime() + 30 * DAY + 60_000));
    expect(third.daysDropped).toBe(6);
    expect(await db.delivery.count({ where: { endpointId: endpoint.id } })).toBe(0);
    // Days ahead of that `now` were made as it ran.
    expect(await exists(dayName("Delivery", new Date(midnight(4).getTime() + 31 * DAY)))).toBe(true);

    // With the pre-partitioning history gone, a process that starts now claims as before, by
    // given ids and from the queue (a new pool: each reads where that history ended once).
    const fresh = createPool(undefined, 2);
    try {
      const at = new Date(midnight(4).getTime() + 31 * DAY);
      const next = await alertAt(team, at);
      const byId = await claimDeliveries(fresh, { now: new Date(at.getTime() + 1_000), limit: 10, leaseMs: 60_000, inFlight: new Map(), perEndpoint: 10, ids: next.deliveryIds });
      expect(byId.deliveries.map((d) => d.id)).toEqual(next.deliveryIds);
      const another = await alertAt(team, at);
      const queued = await claimDeliveries(fresh, { now: new Date(at.getTime() + 1_000), limit: 10, leaseMs: 60_000, inFlight: new Map(), perEndpoint: 10 });
      expect(queued.deliveries.map((d) => [d.id, JSON.parse(d.body.toString()).id])).toEqual([[another.deliveryIds[0], another.eventId]]);
    } finally {
      await fresh.end();
    }
  });

  it("claims a delivery dated before the queued days the last claim read, once that read is a second old", async () => {
    await ensureHistoryPartitions(pool); // Today's and yesterday's, which the test above dropped.
    const team = await createTeam();
    await createActiveEndpoint(team.id, `${receiver.url}/earlier-day`);
    const reader = createPool(undefined, 2);
    const claim = () => claimDeliveries(reader, { now: null, limit: 50, leaseMs: 60_000, inFlight: new Map(), perEndpoint: 50 });
    try {
      const today = await alertAt(team, new Date());
      expect((await claim()).deliveries.map((d) => d.id)).toContain(today.deliveryIds[0]);
      // A redelivered or replayed older event's delivery is dated on its event's day.
      const earlier = await alertAt(team, new Date(midnight(0).getTime() - 3_600_000));
      const started = Date.now();
      let taken: string[] = [];
      while (!taken.includes(earlier.deliveryIds[0]!) && Date.now() - started < 5_000) {
        taken = (await claim()).deliveries.map((d) => d.id);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Taken once a claim read the days afresh: a read is reused for a second, never for good.
      expect(taken).toContain(earlier.deliveryIds[0]);
    } finally {
      await reader.end();
    }
  });
});
