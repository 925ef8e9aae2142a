// Incident-aware delivery: per endpoint and alert, states go out in order, and an outdated
// state still waiting is superseded by a newer one instead of arriving late.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db, pool } from "@/lib/db";
import { aroundClaims } from "@/lib/testing/claim-hooks";
import { TestClock } from "@/lib/testing/clock";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";

let receiver: Receiver;
const status = new Map<string, number | (() => Promise<number>)>();
beforeAll(async () => {
  receiver = await startReceiver(async (r) => {
    const rule = [...status.entries()].find(([prefix]) => r.path.startsWith(prefix))?.[1] ?? 200;
    return { status: typeof rule === "function" ? await rule() : rule };
  });
});
afterAll(() => receiver.close());

type Sent = { type: string; title: string; sequence: number; previousEventId: string | null; id: string };
const sentTo = (path: string): Sent[] =>
  receiver.requests
    .filter((r) => r.path === path && r.method === "POST")
    .map((r) => {
      const body = JSON.parse(r.body);
      return { type: body.type, title: body.data.alert.title, sequence: body.data.alert.sequence, previousEventId: body.data.alert.previousEventId, id: body.id };
    });

async function setup(path: string, skipOutdatedStates: boolean) {
  const team = await createTeam();
  const { endpoint } = await createActiveEndpoint(team.id, `${receiver.url}${path}`);
  await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { skipOutdatedStates } });
  const clock = new TestClock(new Date());
  const alert = (status: "triggered" | "resolved", key = "db-1") =>
    db.$transaction((tx) => ingestAlert(tx, team, { title: key, severity: "critical", status, dedupKey: key }, clock.now()));
  return { team, endpoint, clock, alert, dispatcher: new Dispatcher({ clock, timeoutMs: 2_000, random: () => 0.5 }) };
}

describe("ordered, incident-aware delivery", () => {
  it("a receiver down for a while, then back, gets resolved and never a late triggered", async () => {
    const path = "/order/skip";
    status.set(path, 503);
    const { alert, dispatcher, clock, endpoint } = await setup(path, true);
    const triggered = await alert("triggered");
    await dispatcher.drain();
    const resolved = await alert("resolved");
    const old = await db.delivery.findUniqueOrThrow({ where: { id: triggered.deliveryIds[0]! } });
    expect(old).toMatchObject({ status: "superseded", nextAttemptAt: null, supersededById: resolved.eventId });
    expect(old.lastError).toBe(`superseded by ${resolved.eventId} (alert.resolved): a newer state of this alert was queued`);

    status.set(path, 200);
    for (let i = 0; i < 4; i++) {
      await dispatcher.drain();
      clock.advance(3600_000);
    }
    const sent = sentTo(path);
    expect(sent.map((s) => s.type)).toEqual(["alert.triggered", "alert.resolved"]);
    expect(sent[1]).toMatchObject({ sequence: 2, previousEventId: triggered.eventId });
    expect(sent[0]).toMatchObject({ sequence: 1, previousEventId: null });
    expect(await db.delivery.findMany({ where: { endpointId: endpoint.id }, select: { status: true }, orderBy: { createdAt: "asc" } })).toEqual([
      { status: "superseded" },
      { status: "delivered" },
    ]);
  });

  it("with the setting off, both are delivered, in order: the newer waits for the older", async () => {
    const path = "/order/all";
    status.set(path, 503);
    const { alert, dispatcher, clock } = await setup(path, false);
    await alert("triggered");
    await dispatcher.drain();
    status.set(path, 200);
    await alert("resolved");
    await dispatcher.drain(); // the resolved is due, but its older state is unfinished: nothing goes
    expect(sentTo(path).map((s) => s.type)).toEqual(["alert.triggered"]);
    clock.advance(5_000);
    await dispatcher.drain();
    expect(sentTo(path).map((s) => s.type)).toEqual(["alert.triggered", "alert.triggered", "alert.resolved"]);
  });

  it("a result written while the next claim runs still lets the newer state go in the same drain", async () => {
    // Each claim's answer is held back 100 ms: the older state's result, written by the timed
    // flush meanwhile, comes after the claim's snapshot, so the claim cannot see the newer
    // state is free. drain() must claim once more rather than stop.
    const path = "/order/written-meanwhile";
    status.set(path, 503);
    const { alert, clock } = await setup(path, false);
    const slowClaims = aroundClaims(pool, { after: () => new Promise((resolve) => setTimeout(resolve, 100)) });
    // One at a time, so the claim after the attempt is the one that finds nothing in flight.
    const dispatcher = new Dispatcher({ pool: slowClaims, clock, timeoutMs: 2_000, random: () => 0.5, concurrency: 1 });
    await alert("triggered");
    await dispatcher.drain();
    status.set(path, 200);
    await alert("resolved");
    clock.advance(5_000);
    await dispatcher.drain();
    expect(sentTo(path).map((s) => s.type)).toEqual(["alert.triggered", "alert.triggered", "alert.resolved"]);
  });

  it("an older state that fails while in flight is superseded when it is recorded; the newer goes next", async () => {
    const path = "/order/in-flight";
    let release: () => void = () => {};
    status.set(path, () => new Promise<number>((resolve) => (release = () => resolve(500))));
    const { alert, dispatcher } = await setup(path, true);
    const triggered = await alert("triggered");
    const draining = dispatcher.drain();
    await receiver.waitFor(receiver.requests.length + 1);
    await alert("resolved"); // the triggered is leased: left to finish
    expect((await db.delivery.findUniqueOrThrow({ where: { id: triggered.deliveryIds[0]! } })).status).toBe("pending");
    status.set(path, 200);
    release();
    await draining;
    const old = await db.delivery.findUniqueOrThrow({ where: { id: triggered.deliveryIds[0]! } });
    expect(old).toMatchObject({ status: "superseded", nextAttemptAt: null });
    expect(old.lastError).toMatch(/^answered 500 Internal Server Error; superseded by evt_/);
    await dispatcher.drain();
    expect(sentTo(path).map((s) => s.type)).toEqual(["alert.triggered", "alert.resolved"]);
  });

  it("concurrent workers never break the per-alert order", async () => {
    const path = "/order/race";
    status.set(path, () => new Promise<number>((resolve) => setTimeout(() => resolve(200), Math.random() * 15)));
    const { alert } = await setup(path, false);
    for (let i = 0; i < 40; i++) await alert("triggered", `alert-${i}`);
    for (let i = 0; i < 40; i++) await alert("resolved", `alert-${i}`);
    const workers = Array.from({ length: 3 }, () => new Dispatcher({ timeoutMs: 2_000, perEndpoint: 8, batchSize: 10 }));
    for (let round = 0; round < 5; round++) await Promise.all(workers.map((worker) => worker.drain()));
    const sent = sentTo(path);
    expect(sent).toHaveLength(80);
    for (let i = 0; i < 40; i++) {
      const states = sent.filter((s) => s.title === `alert-${i}`).map((s) => s.type);
      expect(states, `alert-${i}`).toEqual(["alert.triggered", "alert.resolved"]);
    }
  });
});
