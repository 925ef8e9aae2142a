// Waking workers after the alert API commits, and leaving the sending to them when one listens.
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db, pool } from "@/lib/db";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { waitUntil } from "@/lib/testing/worker-process";
import { DISPATCH_CHANNEL } from "@/lib/webhooks/delivery/enqueue";
import { dispatchSoon } from "@/lib/webhooks/delivery/immediate-dispatch";
import { createWaker, WORKER_APPLICATION_NAME } from "@/lib/webhooks/delivery/wake";

/** A LISTEN connection like the worker's, counting the wakes it gets. */
async function listeningWorker(applicationName = WORKER_APPLICATION_NAME) {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL, application_name: applicationName });
  let wakes = 0;
  client.on("notification", () => (wakes += 1));
  client.on("error", () => {});
  await client.connect();
  await client.query(`LISTEN ${DISPATCH_CHANNEL}`);
  return { client, wakes: () => wakes };
}

let receiver: Receiver;
const clients: pg.Client[] = [];
beforeAll(async () => {
  receiver = await startReceiver(() => ({ status: 200 }));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.end()));
});
afterAll(() => receiver.close());

describe("waking workers", () => {
  it("ten wakes at once reach a listener as one or two NOTIFYs, the last sent after the last call", async () => {
    const worker = await listeningWorker();
    clients.push(worker.client);
    const waker = createWaker(pool);
    await Promise.all(Array.from({ length: 10 }, () => waker.wake()));
    await waitUntil(async () => worker.wakes() >= 1, 5_000, "a NOTIFY");
    // Calls made while one NOTIFY was on the wire share the one after it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(worker.wakes()).toBeGreaterThanOrEqual(1);
    expect(worker.wakes()).toBeLessThanOrEqual(2);
    await waker.wake();
    await waitUntil(async () => worker.wakes() >= 2, 5_000, "a NOTIFY for a later call");
  });

  it("each caller's wake settles while others keep calling: a storm never holds every request until it ends", async () => {
    const waker = createWaker(pool);
    let settled = false;
    void waker.wake().then(() => (settled = true));
    const end = Date.now() + 500;
    while (Date.now() < end) {
      void waker.wake();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(settled).toBe(true);
  });

  it("tells whether a worker is listening by its connection's application name", async () => {
    const waker = createWaker(pool, { workerCheckMs: 0, workerGoneMs: 0 });
    expect(await waker.workerListening()).toBe(false);
    const other = await listeningWorker("some other app");
    clients.push(other.client);
    expect(await waker.workerListening()).toBe(false);
    const worker = await listeningWorker();
    clients.push(worker.client);
    expect(await waker.workerListening()).toBe(true);
  });

  it("a worker seen listening still counts for a while after its connection is gone (reconnecting, or restarted by a deploy)", async () => {
    const worker = await listeningWorker();
    const sticky = createWaker(pool, { workerCheckMs: 0, workerGoneMs: 60_000 });
    const forgetful = createWaker(pool, { workerCheckMs: 0, workerGoneMs: 0 });
    expect([await sticky.workerListening(), await forgetful.workerListening()]).toEqual([true, true]);
    await worker.client.end();
    // Its backend is gone from pg_stat_activity once the server has seen the disconnect.
    for (let i = 0; i < 100 && (await forgetful.workerListening()); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect([await sticky.workerListening(), await forgetful.workerListening()]).toEqual([true, false]);
  });

  it("calls while a check is on the wire share it: a storm sends one check per expiry, not one per request", async () => {
    const worker = await listeningWorker();
    clients.push(worker.client);
    let checks = 0;
    const counting = new Proxy(pool, {
      get: (target, property) =>
        property === "query"
          ? (...args: Parameters<typeof pool.query>) => {
              checks += 1;
              return (target.query as (...a: unknown[]) => unknown)(...args);
            }
          : Reflect.get(target, property),
    });
    const waker = createWaker(counting, { workerCheckMs: 60_000 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => waker.workerListening()));
    expect(answers).toEqual(Array.from({ length: 20 }, () => true));
    expect(checks).toBe(1);
    expect(await waker.workerListening()).toBe(true);
    expect(checks).toBe(1);
  });

  it("with a worker listening, the API's dispatchSoon wakes it and sends nothing itself", async () => {
    const worker = await listeningWorker();
    clients.push(worker.client);
    const team = await createTeam();
    await createActiveEndpoint(team.id, `${receiver.url}/woken`);
    const { deliveryIds } = await db.$transaction((tx) => ingestAlert(tx, team, { title: "disk full", severity: "critical", status: "triggered" }));
    const before = worker.wakes();
    await dispatchSoon(deliveryIds);
    await waitUntil(async () => worker.wakes() > before, 5_000, "the worker's wake");
    const delivery = await db.delivery.findUniqueOrThrow({ where: { id: deliveryIds[0]! } });
    expect(delivery).toMatchObject({ status: "pending", attempts: 0 });
    expect(receiver.requests.filter((r) => r.path === "/woken")).toHaveLength(0);
  });
});
