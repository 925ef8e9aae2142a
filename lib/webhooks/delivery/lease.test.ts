// Leases are renewed while the process that claimed a delivery is alive: a slow process (a
// starved CPU, a database restart) never has a delivery claimed from under it and sent twice.
// A process that dies stops renewing, and its deliveries go out again when the lease ends.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { createPool, db, pool, type Db } from "@/lib/db";
import { TestClock } from "@/lib/testing/clock";
import { createActiveEndpoint } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { startThrowawayDatabase } from "@/lib/testing/throwaway-database";
import { waitUntil } from "@/lib/testing/worker-process";
import { claimDeliveries, extendLeases } from "@/lib/webhooks/delivery/claim";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";

let receiver: Receiver;
let release: () => void = () => {};
beforeAll(async () => {
  // The first request to a /held/ path waits for release(); any later one is answered at once.
  receiver = await startReceiver((request) =>
    request.path.startsWith("/held/") && sentTo(request.path) === 1 ? new Promise((resolve) => (release = () => resolve({ status: 200 }))) : { status: 200 },
  );
});
afterAll(() => receiver.close());

async function queue(path: string, clock: TestClock | null, client: Db = db) {
  const team = await client.team.create({ data: { name: `lease ${path}` } });
  await createActiveEndpoint(team.id, `${receiver.url}${path}`, client);
  const accepted = await client.$transaction((tx) => ingestAlert(tx, team, { title: "disk full", severity: "warning", status: "triggered" }, clock?.now()));
  return accepted.deliveryIds[0]!;
}

const sentTo = (path: string) => receiver.requests.filter((r) => r.path === path).length;

/** The scenario: worker A's attempt is on the wire for longer than its lease; worker B looks for work meanwhile. */
async function outlive(path: string, renew: boolean) {
  const clock = new TestClock();
  const id = await queue(path, clock);
  const a = new Dispatcher({ pool, clock, timeoutMs: 2_000, leaseRenewMs: renew ? 100 : 3_600_000 });
  const b = new Dispatcher({ pool, clock, timeoutMs: 2_000 });
  const draining = a.drain({ ids: [id] });
  await receiver.waitFor(receiver.requests.length + 1);
  // Nearly a lease (2 × 2 s + 5 s) later, A's attempt is still out; renewals get their chance.
  clock.advance(a.leaseMs - 1_000);
  await new Promise((resolve) => setTimeout(resolve, 400));
  clock.advance(5_000);
  const stolen = await b.drain({ ids: [id] });
  release();
  await draining;
  return { id, stolen: stolen.attempted };
}

describe("leases", () => {
  it("a live process keeps its deliveries past the lease: nothing is claimed from under it or sent twice", async () => {
    const { id, stolen } = await outlive("/held/renewed", true);
    expect(stolen).toBe(0);
    expect(sentTo("/held/renewed")).toBe(1);
    expect(await db.delivery.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "delivered", attempts: 1, leaseExpiresAt: null });
  });

  it("without renewals the lease runs out and another worker sends it again (what a dead process leaves)", async () => {
    const { id, stolen } = await outlive("/held/expired", false);
    expect(stolen).toBe(1);
    expect(sentTo("/held/expired")).toBe(2);
    // The late writer's outcome is for an older attempt: the row shows the newer one.
    expect(await db.delivery.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "delivered", attempts: 2 });
  });

  it("renews only the claim still current and unfinished", async () => {
    const clock = new TestClock();
    const id = await queue("/plain", clock);
    const { deliveries } = await claimDeliveries(pool, { now: clock.now(), limit: 1, leaseMs: 10_000, inFlight: new Map(), perEndpoint: 64, ids: [id] });
    expect(deliveries).toHaveLength(1);
    const leaseOf = async () => (await db.delivery.findUniqueOrThrow({ where: { id } })).leaseExpiresAt?.getTime();
    // Another attempt number (a claim since): left alone.
    expect(await extendLeases(pool, { now: clock.now(), leaseMs: 60_000, held: new Map([[id, 2]]) })).toBe(0);
    expect(await leaseOf()).toBe(clock.now().getTime() + 10_000);
    expect(await extendLeases(pool, { now: clock.now(), leaseMs: 60_000, held: new Map([[id, 1]]) })).toBe(1);
    expect(await leaseOf()).toBe(clock.now().getTime() + 60_000);
    // Finished: nothing to renew.
    await db.delivery.update({ where: { id }, data: { status: "delivered", nextAttemptAt: null, leaseExpiresAt: null } });
    expect(await extendLeases(pool, { now: clock.now(), leaseMs: 60_000, held: new Map([[id, 1]]) })).toBe(0);
    expect(await leaseOf()).toBeUndefined();
  });

  it("after PostgreSQL restarts, a lease that ran out while it was away is left to its holder for a grace period", async () => {
    const { cluster, url, client } = await startThrowawayDatabase("lease");
    const leasePool = createPool(url);
    try {
      const id = await queue("/held/restart", null, client);
      const holder = new Dispatcher({ pool: leasePool, timeoutMs: 2_000 });
      // Its claims fail while the database restarts (the worker's loop would try again); the
      // attempt on the wire goes on, and its outcome waits to be written.
      const draining = holder.drain({ ids: [id] }).catch(() => null);
      await receiver.waitFor(receiver.requests.length + 1);
      await cluster.restart();
      // As after an outage longer than the lease: it ran out while nobody could renew it.
      await client.delivery.update({ where: { id }, data: { leaseExpiresAt: new Date(Date.now() - 1_000) } });
      const other = new Dispatcher({ pool: leasePool, timeoutMs: 2_000 });
      expect((await other.drain({ ids: [id] })).attempted).toBe(0);
      release();
      await draining;
      // Its drain gave up with the failed claim; the attempt's outcome is held, as the worker's is.
      await waitUntil(async () => holder.buffered > 0, 10_000, "the held attempt's outcome");
      await holder.settle(performance.now() + 10_000);
      expect(sentTo("/held/restart")).toBe(1);
      expect(await client.delivery.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "delivered", attempts: 1 });
    } finally {
      await leasePool.end();
      await client.$disconnect();
      await cluster.stop();
    }
  }, 120_000);
});
