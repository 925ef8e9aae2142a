import crypto from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db } from "@/lib/db";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { TestClock } from "@/lib/testing/clock";
import { MAX_ATTEMPTS } from "@/lib/webhooks/delivery/retry";


let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

async function setup(path: string, clock: TestClock, timeoutMs = 2_000) {
  const team = await createTeam();
  const { endpoint, secret } = await createActiveEndpoint(team.id, `${receiver.url}${path}`);
  const accepted = await db.$transaction((tx) => ingestAlert(tx, team, { title: "CPU high", severity: "critical", status: "triggered" }, clock.now()));
  const dispatcher = new Dispatcher({ clock, timeoutMs, random: () => 0.5 });
  const requests = () => receiver.requests.filter((r) => r.path === path);
  return { team, endpoint, secret, accepted, dispatcher, requests };
}

const deliveryOf = (endpointId: string) =>
  db.delivery.findFirstOrThrow({ where: { endpointId }, include: { attemptLog: { orderBy: { number: "asc" } } } });

describe("dispatch", () => {
  it("signs the exact body with both schemes, verified independently", async () => {
    receiver.respond(() => ({ status: 200, body: "ok" }));
    const clock = new TestClock(new Date());
    const { secret, accepted, dispatcher, requests, endpoint, team } = await setup("/signed", clock);
    expect(accepted.deliveriesQueued).toBe(1);
    await dispatcher.drain();
    const [request] = requests();
    expect(request).toBeDefined();
    expect(request!.method).toBe("POST");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["user-agent"]).toMatch(/^mon1tor-webhooks\/\d+\.\d+\.\d+$/);

    const expected = crypto.createHmac("sha256", secret).update(request!.body).digest("hex");
    expect(request!.headers["x-mon1tor-sha256-wh"]).toBe(expected);

    // The official Standard Webhooks library, unchanged, accepts it.
    const verified = new Webhook(secret).verify(request!.body, {
      "webhook-id": request!.headers["webhook-id"] as string,
      "webhook-timestamp": request!.headers["webhook-timestamp"] as string,
      "webhook-signature": request!.headers["webhook-signature"] as string,
    });
    expect(verified).toMatchObject({ type: "alert.triggered", apiVersion: "2026-11-01", team: { id: team.id, name: team.name } });

    const body = JSON.parse(request!.body);
    expect(body.id).toMatch(/^evt_/);
    expect(body.data.alert).toMatchObject({ id: accepted.alertId, title: "CPU high", severity: "critical", status: "triggered", resolvedAt: null });
    expect(body.data.alert.url).toMatch(new RegExp(`/alerts/${accepted.alertId}$`));

    const delivery = await deliveryOf(endpoint.id);
    expect(request!.headers["webhook-id"]).toBe(delivery.id);
    expect(delivery).toMatchObject({ status: "delivered", attempts: 1, lastStatusCode: 200, nextAttemptAt: null });
    expect(delivery.attemptLog).toHaveLength(1);
    expect(delivery.attemptLog[0]).toMatchObject({ number: 1, statusCode: 200, responseExcerpt: "ok", errorClass: null });
  });

  it("a flaky receiver (500, 500, 200) is delivered on the 3rd attempt, with the same bytes each time", async () => {
    const clock = new TestClock();
    let calls = 0;
    receiver.respond((r) => (r.path === "/flaky" ? { status: ++calls < 3 ? 500 : 200 } : { status: 200 }));
    const { dispatcher, requests, endpoint } = await setup("/flaky", clock);

    await dispatcher.drain();
    let delivery = await deliveryOf(endpoint.id);
    expect(delivery.status).toBe("retrying");
    expect(delivery.nextAttemptAt!.getTime() - clock.now().getTime()).toBe(5_000); // +5 s, jitter at its midpoint

    await dispatcher.drain(); // not due yet
    expect(requests()).toHaveLength(1);

    clock.advance(5_000);
    await dispatcher.drain();
    delivery = await deliveryOf(endpoint.id);
    expect(delivery.nextAttemptAt!.getTime() - clock.now().getTime()).toBe(300_000); // +5 min

    clock.advance(300_000);
    await dispatcher.drain();
    delivery = await deliveryOf(endpoint.id);
    expect(delivery).toMatchObject({ status: "delivered", attempts: 3, lastStatusCode: 200 });
    expect(delivery.attemptLog.map((a) => a.statusCode)).toEqual([500, 500, 200]);

    const seen = requests();
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((r) => r.body)).size).toBe(1);
    expect(new Set(seen.map((r) => r.headers["webhook-id"])).size).toBe(1);
    expect((await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).consecutiveFailures).toBe(0);
  });

  it("gives up after 8 attempts, then marks the delivery failed", async () => {
    const clock = new TestClock();
    receiver.respond(() => ({ status: 500 }));
    const { dispatcher, endpoint } = await setup("/always-500", clock);
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      await dispatcher.drain();
      clock.advance(11 * 3600 * 1000);
    }
    await dispatcher.drain();
    const delivery = await deliveryOf(endpoint.id);
    expect(delivery).toMatchObject({ status: "failed", attempts: 8, nextAttemptAt: null });
    expect(delivery.attemptLog).toHaveLength(8);
    // One delivery that failed, however many times it was retried, counts once.
    expect(await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toMatchObject({
      consecutiveFailures: 1,
      lastFailureReason: "answered 500 Internal Server Error",
      status: "active",
    });
  });

  it("honours 429 + Retry-After beyond the backoff", async () => {
    const clock = new TestClock();
    receiver.respond(() => ({ status: 429, headers: { "retry-after": "120" } }));
    const { dispatcher, endpoint } = await setup("/busy", clock);
    await dispatcher.drain();
    const delivery = await deliveryOf(endpoint.id);
    expect(delivery.status).toBe("retrying");
    expect(delivery.nextAttemptAt!.getTime() - clock.now().getTime()).toBe(120_000);
    expect(delivery.attemptLog[0]).toMatchObject({ statusCode: 429, errorMessage: "answered 429 Too Many Requests" });
  });

  it("410 Gone stops retrying and disables the endpoint", async () => {
    const clock = new TestClock();
    receiver.respond(() => ({ status: 410 }));
    const { dispatcher, endpoint } = await setup("/gone", clock);
    await dispatcher.drain();
    expect(await deliveryOf(endpoint.id)).toMatchObject({ status: "failed", nextAttemptAt: null });
    expect(await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toMatchObject({
      status: "disabled",
      statusReason: "endpoint answered 410 Gone",
    });
  });

  it("records a timeout as one", async () => {
    const clock = new TestClock();
    receiver.respond(() => "hang");
    const { dispatcher, endpoint } = await setup("/hang", clock, 1_000);
    await dispatcher.drain();
    const delivery = await deliveryOf(endpoint.id);
    expect(delivery.status).toBe("retrying");
    expect(delivery.attemptLog[0]).toMatchObject({ errorClass: "timeout", errorMessage: "timed out after 1 s", statusCode: null });
  });

  it("a 302 is a failure and its target receives nothing", async () => {
    const clock = new TestClock();
    const target = await startReceiver();
    receiver.respond(() => ({ status: 302, headers: { location: `${target.url}/stolen` } }));
    const { dispatcher, endpoint } = await setup("/moved", clock);
    await dispatcher.drain();
    expect((await deliveryOf(endpoint.id)).attemptLog[0]).toMatchObject({ statusCode: 302, errorClass: "redirect", errorMessage: "answered 302: redirects are not followed" });
    expect(target.requests).toHaveLength(0);
    await target.close();
  });

  it("holds deliveries of a paused endpoint, and sends nothing for a deleted one", async () => {
    const clock = new TestClock();
    receiver.respond(() => ({ status: 200 }));
    const { dispatcher, endpoint, requests } = await setup("/paused", clock);
    await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { status: "paused" } });
    await dispatcher.drain();
    expect(requests()).toHaveLength(0);
    await db.webhookEndpoint.delete({ where: { id: endpoint.id } });
    await dispatcher.drain();
    expect(requests()).toHaveLength(0);
    expect(await db.delivery.count({ where: { endpointId: endpoint.id } })).toBe(0);
  });
});

describe("dispatch limits", () => {
  it("drains everything even when one endpoint is held at its in-flight cap", async () => {
    const clock = new TestClock(new Date());
    receiver.respond(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { status: 200 };
    });
    const team = await createTeam();
    const { endpoint } = await createActiveEndpoint(team.id, `${receiver.url}/capped`);
    const ids: string[] = [];
    await db.$transaction(async (tx) => {
      for (let i = 0; i < 30; i++) ids.push(...(await ingestAlert(tx, team, { title: `a${i}`, severity: "info", status: "triggered" }, clock.now())).deliveryIds);
    });
    const stats = await new Dispatcher({ clock, perEndpoint: 3, concurrency: 8, batchSize: 4 }).drain({ ids });
    expect(stats).toEqual({ attempted: 30, delivered: 30, failed: 0 });
    expect(await db.delivery.count({ where: { endpointId: endpoint.id, status: "delivered" } })).toBe(30);
  });

  it("an endpoint at its delivery cap with retries due does not hold back another endpoint's retry", async () => {
    const clock = new TestClock(new Date("2026-11-27T12:00:10Z"));
    receiver.respond(() => ({ status: 200 }));
    const team = await createTeam();
    const { endpoint: capped } = await createActiveEndpoint(team.id, `${receiver.url}/capped-retries`);
    const { endpoint: other } = await createActiveEndpoint(team.id, `${receiver.url}/other-retry`);
    await db.webhookEndpoint.update({ where: { id: capped.id }, data: { deliveryRateCap: 2 } });
    await db.$transaction(async (tx) => {
      for (let i = 0; i < 12; i++) await ingestAlert(tx, team, { title: `r${i}`, severity: "info", status: "triggered" }, clock.now());
    });
    // Every delivery failed once and is due again: the capped endpoint's twelve first, then the other's.
    const due = (offsetMs: number) => new Date(clock.now().getTime() - offsetMs);
    await db.delivery.updateMany({ where: { endpointId: capped.id }, data: { status: "retrying", attempts: 1, nextAttemptAt: due(60_000) } });
    await db.delivery.updateMany({ where: { endpointId: other.id }, data: { status: "retrying", attempts: 1, nextAttemptAt: due(1_000) } });
    const sent = (path: string) => receiver.requests.filter((r) => r.path === path).length;
    // A claim no bigger than the capped endpoint's retries: in plain time order it would see only those.
    const dispatcher = new Dispatcher({ clock, batchSize: 10, concurrency: 20, timeoutMs: 2_000 });
    await dispatcher.drain();
    expect(sent("/capped-retries")).toBe(2);
    expect(sent("/other-retry")).toBe(12);
    expect(await db.delivery.count({ where: { endpointId: other.id, status: "delivered" } })).toBe(12);
    expect(await db.delivery.count({ where: { endpointId: capped.id, status: "retrying" } })).toBe(10);
  });

  it("never has more than perEndpoint in flight to one endpoint, counting those already in flight", async () => {
    const clock = new TestClock(new Date());
    let inFlight = 0;
    let most = 0;
    let answered = 0;
    receiver.respond(async (request) => {
      if (request.path !== "/one-at-a-cap") return { status: 200 };
      inFlight += 1;
      most = Math.max(most, inFlight);
      // Answers come back at different times, so claims happen while some are still in flight.
      await new Promise((resolve) => setTimeout(resolve, 5 + (answered++ % 4) * 60));
      inFlight -= 1;
      return { status: 200 };
    });
    const team = await createTeam();
    const { endpoint } = await createActiveEndpoint(team.id, `${receiver.url}/one-at-a-cap`);
    await db.$transaction(async (tx) => {
      for (let i = 0; i < 40; i++) await ingestAlert(tx, team, { title: `c${i}`, severity: "info", status: "triggered" }, clock.now());
    });
    const stats = await new Dispatcher({ clock, perEndpoint: 4, concurrency: 16, batchSize: 16, lingerMs: 0 }).drain({ budgetMs: 20_000 });
    expect(stats.attempted).toBeGreaterThanOrEqual(40);
    expect(await db.delivery.count({ where: { endpointId: endpoint.id, status: "delivered" } })).toBe(40);
    expect(most).toBe(4);
  });
});
