// The worker's poll loop: many rounds must not pile up abort listeners on its signal, a
// NOTIFY is never lost between two drains, and a trickle of alerts is claimed in batches.
import { getEventListeners } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db, pool } from "@/lib/db";
import { aroundClaims } from "@/lib/testing/claim-hooks";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { Alarm, pause } from "@/lib/webhooks/delivery/worker";

describe("worker poll loop", () => {
  it("leaves no abort listener behind, however many rounds it runs and however they end", async () => {
    const controller = new AbortController();
    let wake = () => {};
    for (let round = 0; round < 2_000; round++) {
      // Half the rounds time out, half are woken early (as by NOTIFY).
      const waiting = pause(round % 2 === 0 ? 0 : 60_000, controller.signal, (next) => (wake = next));
      if (round % 2 === 1) wake();
      await waiting;
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("an abort ends the wait at once", async () => {
    const controller = new AbortController();
    const waiting = pause(60_000, controller.signal, () => {});
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    controller.abort();
    await waiting;
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("a NOTIFY that arrives during a drain makes the wait after it return at once", async () => {
    const alarm = new Alarm();
    const controller = new AbortController();
    alarm.reset(); // a drain starts
    alarm.ring(); // new deliveries committed while its last claim was on the wire
    // Without the memory of that ring, this would sleep the whole poll interval (the test times out).
    await alarm.wait(60_000, controller.signal);
    alarm.reset(); // the next drain: a ring before it does not carry over
    const waiting = alarm.wait(60_000, controller.signal);
    let woke = false;
    void waiting.then(() => (woke = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(woke).toBe(false);
    alarm.ring();
    await waiting;
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});

describe("claiming while alerts trickle in", () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver(() => ({ status: 200 }));
  });
  afterAll(() => receiver.close());

  it("after a claim that came back short, the next waits lingerMs and takes what arrived meanwhile", async () => {
    const team = await createTeam();
    const { endpoint } = await createActiveEndpoint(team.id, `${receiver.url}/linger`);
    const ingest = (title: string) => db.$transaction((tx) => ingestAlert(tx, team, { title, severity: "warning", status: "triggered" }));
    // The real pool, noting when each claim went out; right after the first, a second alert commits.
    const claimsAt: number[] = [];
    const noting = aroundClaims(pool, {
      before: () => claimsAt.push(performance.now()),
      after: async () => {
        if (claimsAt.length === 1) await ingest("second");
      },
    });
    await ingest("first");
    const lingerMs = 300;
    const stats = await new Dispatcher({ pool: noting, lingerMs, timeoutMs: 2_000 }).drain({ budgetMs: 10_000 });

    expect(stats).toEqual({ attempted: 2, delivered: 2, failed: 0 });
    expect(receiver.requests.filter((request) => request.path === "/linger")).toHaveLength(2);
    expect(await db.delivery.count({ where: { endpointId: endpoint.id, status: "delivered" } })).toBe(2);
    // Without the linger, the second alert is claimed as soon as the first one's send ends.
    expect(claimsAt.length).toBeGreaterThanOrEqual(2);
    expect(claimsAt[1]! - claimsAt[0]!).toBeGreaterThanOrEqual(lingerMs - 5);
  });

  it("a backlog that per-endpoint quotas cut into short claims is claimed without lingering", async () => {
    const team = await createTeam();
    const { endpoint } = await createActiveEndpoint(team.id, `${receiver.url}/quota`);
    const ids: string[] = [];
    await db.$transaction(async (tx) => {
      for (let i = 0; i < 20; i++) ids.push(...(await ingestAlert(tx, team, { title: `backlog ${i}`, severity: "info", status: "triggered" })).deliveryIds);
    });
    // Four at a time for the one endpoint. Lingering after each of those claims would stop
    // this drain at its budget with 4 sent, long before the next claim.
    const stats = await new Dispatcher({ perEndpoint: 4, batchSize: 50, lingerMs: 60_000, timeoutMs: 2_000 }).drain({ budgetMs: 20_000 });
    expect(stats.attempted).toBe(20);
    expect(await db.delivery.count({ where: { endpointId: endpoint.id, status: "delivered" } })).toBe(20);
  });
});
