// The worker as a real process: killed mid-batch, racing three others, and outliving a
// PostgreSQL restart. Deliveries are at least once; none may be lost.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { createDbClient, db, type Db } from "@/lib/db";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { spawnWorker, stopProcess, waitUntil } from "@/lib/testing/worker-process";
import { freePort, startEmbeddedPostgres } from "@/scripts/lib/embedded-postgres";
import { applyMigrationsSql } from "@/scripts/lib/migrations";

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

/** `alerts` alerts to `endpoints` endpoints on the receiver under `prefix`; returns the delivery ids. */
async function enqueue(client: Db, prefix: string, alerts: number, endpoints: number) {
  const team = await client.team.create({ data: { name: prefix } });
  for (let i = 0; i < endpoints; i++) await createActiveEndpoint(team.id, `${receiver.url}/${prefix}/${i}`, client);
  const ids: string[] = [];
  await client.$transaction(
    async (tx) => {
      for (let i = 0; i < alerts; i++) ids.push(...(await ingestAlert(tx, team, { title: `alert ${i}`, severity: "info", status: "triggered" })).deliveryIds);
    },
    { timeout: 120_000 },
  );
  return ids;
}

const receivedIds = (prefix: string) =>
  receiver.requests.filter((r) => r.method === "POST" && r.path.startsWith(`/${prefix}/`)).map((r) => String(r.headers["webhook-id"]));

const deliveredCount = async (client: Db, ids: string[]) => client.delivery.count({ where: { id: { in: ids }, status: "delivered" } });

describe("worker process", () => {
  it("kill -9 in the middle of a batch: after a restart every delivery arrives", async () => {
    const prefix = `crash-${Date.now()}`;
    receiver.respond(async (r) => {
      if (r.path.startsWith(`/${prefix}/`)) await new Promise((resolve) => setTimeout(resolve, 300));
      return { status: 200 };
    });
    const ids = await enqueue(db, prefix, 100, 10);
    expect(ids).toHaveLength(1000);

    const first = spawnWorker();
    await waitUntil(async () => receivedIds(prefix).length >= 150, 60_000, "the first worker to get going");
    await stopProcess(first, "SIGKILL");
    // Killed mid-batch: some deliveries were claimed (leased) and never recorded.
    const orphaned = await db.delivery.count({ where: { id: { in: ids }, leaseExpiresAt: { not: null } } });
    expect(orphaned).toBeGreaterThan(0);
    expect(receivedIds(prefix).length).toBeLessThan(1000);

    const second = spawnWorker();
    try {
      await waitUntil(async () => (await deliveredCount(db, ids)) === 1000, 90_000, "all 1000 deliveries after the restart");
    } finally {
      await stopProcess(second);
    }
    const received = new Set(receivedIds(prefix));
    expect(ids.filter((id) => !received.has(id))).toEqual([]);
  }, 180_000);

  it("4 workers on 5,000 deliveries: each is received exactly once", async () => {
    const prefix = `race-${Date.now()}`;
    receiver.respond(() => ({ status: 200 }));
    const ids = await enqueue(db, prefix, 500, 10);
    expect(ids).toHaveLength(5000);
    // The default timeout, not the suite's 2 s: this test is about claims racing, and on a
    // shared machine four workers starting at once could stall the in-process receiver past
    // 2 s, sending deliveries into minutes of backoff.
    const workers = Array.from({ length: 4 }, () => spawnWorker({ MON1TOR_DELIVERY_TIMEOUT_MS: "15000" }));
    try {
      await waitUntil(async () => (await deliveredCount(db, ids)) === 5000, 120_000, "all 5000 deliveries");
    } catch (error) {
      const states = await db.delivery.groupBy({ by: ["status"], where: { id: { in: ids } }, _count: true });
      console.error(JSON.stringify(states), workers.map((w) => w.output.join("").slice(-1500)));
      throw error;
    } finally {
      await Promise.all(workers.map((worker) => stopProcess(worker)));
    }
    const received = receivedIds(prefix);
    expect(received).toHaveLength(5000);
    expect(new Set(received).size).toBe(5000);
    // They really did share the work.
    const busy = workers.filter((worker) => worker.output.join("").includes("delivered"));
    expect(busy.length).toBeGreaterThan(1);
  }, 180_000);

  it("recovers by itself when PostgreSQL restarts during dispatch", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "mon1tor-restart-"));
    const cluster = await startEmbeddedPostgres({ dataDir, port: await freePort(), password: "restart", throwaway: true });
    const url = await cluster.createDatabase("restart");
    await applyMigrationsSql(url);
    const client = createDbClient(url);
    const prefix = `restart-${Date.now()}`;
    receiver.respond(async (r) => {
      if (r.path.startsWith(`/${prefix}/`)) await new Promise((resolve) => setTimeout(resolve, 20));
      return { status: 200 };
    });
    const ids = await enqueue(client, prefix, 100, 10);
    const worker = spawnWorker({ DATABASE_URL: url });
    try {
      await waitUntil(async () => receivedIds(prefix).length >= 100, 60_000, "dispatch to start");
      await cluster.restart();
      await waitUntil(async () => (await deliveredCount(client, ids)) === 1000, 120_000, "all deliveries after the restart");
    } catch (error) {
      // What was left, and what the worker said: enough to tell a stall from a slow machine.
      const states = await client.delivery.groupBy({ by: ["status"], where: { id: { in: ids } }, _count: true }).catch(() => "unreadable");
      console.error("[restart test]", JSON.stringify(states), `received ${new Set(receivedIds(prefix)).size}`, worker.output.join("").slice(-3000));
      throw error;
    } finally {
      await stopProcess(worker);
      await client.$disconnect();
      await cluster.stop();
    }
    const received = new Set(receivedIds(prefix));
    expect(ids.filter((id) => !received.has(id))).toEqual([]);
    expect(worker.output.join("")).toMatch(/failed/);
  }, 240_000);
});
