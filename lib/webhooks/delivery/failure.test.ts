// The failure policy end to end on PostgreSQL: counts, notices at thresholds, auto-disable,
// coming back only through validation, and the replay-or-start-fresh choice.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db, pool } from "@/lib/db";
import { createActiveEndpoint, createMember } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { expireStaleDeliveries, PARKED_AT } from "@/lib/webhooks/delivery/backlog";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { TestClock } from "@/lib/testing/clock";
import { pauseEndpoint, resumeEndpoint, validateAgain, updateEndpoint } from "@/lib/webhooks/endpoints/lifecycle";
import { crossedThresholds, type FailurePolicy } from "@/lib/webhooks/delivery/failure";
import { RETRY_WINDOW_MS } from "@/lib/webhooks/delivery/retry";


const policy: FailurePolicy = { notifyAt: [5, 10, 15], disableAfterFailures: 20, disableAfterDays: 5 };

let receiver: Receiver;
// Per path: what POSTs get; validation GETs always get 200.
const answers = new Map<string, number>();
beforeAll(async () => {
  receiver = await startReceiver((r) => {
    if (r.method === "GET") return { status: 200 };
    const key = [...answers.keys()].find((prefix) => r.path.startsWith(prefix));
    return { status: key ? answers.get(key)! : 200 };
  });
});
afterAll(() => receiver.close());

async function setup(path: string, status: number) {
  answers.set(path, status);
  const owner = await createMember("owner");
  const { endpoint } = await createActiveEndpoint(owner.team.id, `${receiver.url}${path}`);
  const clock = new TestClock(new Date());
  const dispatcher = new Dispatcher({ clock, timeoutMs: 2_000, random: () => 0.5, failurePolicy: policy });
  const alerts = (count: number) =>
    db.$transaction(async (tx) => {
      for (let i = 0; i < count; i++) await ingestAlert(tx, owner.team, { title: `alert ${i}`, severity: "critical", status: "triggered" }, clock.now());
    });
  const row = () => db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
  const notices = () => db.notification.findMany({ where: { endpointId: endpoint.id }, orderBy: { createdAt: "asc" } });
  const received = () => receiver.requests.filter((r) => r.method === "POST" && r.path.startsWith(path));
  return { owner, endpoint, clock, dispatcher, alerts, row, notices, received };
}

describe("failure policy", () => {
  it("thresholds are pure arithmetic: each one crossed once", () => {
    expect(crossedThresholds([5, 10, 15], 4, 5)).toEqual([5]);
    expect(crossedThresholds([5, 10, 15], 5, 9)).toEqual([]);
    expect(crossedThresholds([5, 10, 15], 3, 16)).toEqual([5, 10, 15]);
  });

  it("notifies at 5, 10 and 15 failed deliveries, then disables at 20 with the reason and time", async () => {
    const { alerts, dispatcher, row, notices, clock, received, endpoint } = await setup("/policy/storm", 500);
    for (const expected of [5, 10, 15]) {
      await alerts(5);
      await dispatcher.drain();
      expect((await row()).consecutiveFailures).toBe(expected);
      expect((await notices()).at(-1)).toMatchObject({ kind: "endpoint_failing" });
      expect((await notices()).at(-1)!.message).toMatch(new RegExp(`has failed ${expected} deliveries in a row\\. Last failure: answered 500 Internal Server Error\\.$`));
    }
    expect(await notices()).toHaveLength(3);
    // Retries of the same deliveries (due now) do not count again.
    clock.advance(6_000);
    await alerts(4);
    await dispatcher.drain();
    expect(await row()).toMatchObject({ status: "active", consecutiveFailures: 19 });
    expect(received()).toHaveLength(15 + 15 + 4);
    await alerts(1);
    await dispatcher.drain();
    const disabled = await row();
    expect(disabled).toMatchObject({
      status: "disabled",
      consecutiveFailures: 20,
      statusReason: "disabled after 20 failed deliveries in a row; last: answered 500 Internal Server Error",
    });
    expect(disabled.disabledAt).toBeInstanceOf(Date);
    expect(disabled.inactiveSince).toBeInstanceOf(Date);
    expect((await notices()).at(-1)).toMatchObject({ kind: "endpoint_disabled" });
    expect(await notices()).toHaveLength(4);
    // Its queue is parked: claims for every other endpoint never scan it; nothing is lost.
    const queued = await db.delivery.findMany({ where: { endpointId: endpoint.id, status: "retrying" }, select: { nextAttemptAt: true } });
    expect(queued.length).toBeGreaterThan(0);
    expect(queued.every((d) => d.nextAttemptAt!.getTime() === PARKED_AT.getTime())).toBe(true);
  });

  it("a success resets the count and the failing-since time", async () => {
    const { alerts, dispatcher, row } = await setup("/policy/flaky", 500);
    await alerts(3);
    await dispatcher.drain();
    expect(await row()).toMatchObject({ consecutiveFailures: 3, lastFailureReason: "answered 500 Internal Server Error" });
    expect((await row()).failingSince).toBeInstanceOf(Date);
    answers.set("/policy/flaky", 200);
    await alerts(1);
    await dispatcher.drain();
    expect(await row()).toMatchObject({ consecutiveFailures: 0, failingSince: null, status: "active" });
  });

  it("a healthy endpoint's successes write no new version of its row; a failure and the success after it do", async () => {
    const { alerts, dispatcher, row, endpoint } = await setup("/policy/healthy", 200);
    const version = async () => (await pool.query<{ xmin: string }>(`SELECT xmin::text FROM "WebhookEndpoint" WHERE id = $1`, [endpoint.id])).rows[0]!.xmin;
    const before = await version();
    await alerts(3);
    await dispatcher.drain();
    expect(await version()).toBe(before);
    answers.set("/policy/healthy", 500);
    await alerts(1);
    await dispatcher.drain();
    const failed = await version();
    expect(failed).not.toBe(before);
    expect(await row()).toMatchObject({ consecutiveFailures: 1 });
    answers.set("/policy/healthy", 200);
    await alerts(1);
    await dispatcher.drain();
    expect(await version()).not.toBe(failed);
    expect(await row()).toMatchObject({ consecutiveFailures: 0, failingSince: null, status: "active" });
  });

  it("disables an endpoint that has failed for 5 days without a success", async () => {
    const { alerts, dispatcher, row, endpoint, clock } = await setup("/policy/slow-death", 503);
    await db.webhookEndpoint.update({
      where: { id: endpoint.id },
      data: { consecutiveFailures: 2, failingSince: new Date(clock.now().getTime() - 6 * 24 * 3600 * 1000) },
    });
    await alerts(1);
    await dispatcher.drain();
    expect(await row()).toMatchObject({ status: "disabled", statusReason: "disabled after failing for 5 days without a success; last: answered 503 Service Unavailable" });
  });

  it("410 Gone disables at once, and says so in a notification", async () => {
    const { alerts, dispatcher, row, notices } = await setup("/policy/gone", 410);
    await alerts(1);
    await dispatcher.drain();
    expect(await row()).toMatchObject({ status: "disabled", statusReason: "endpoint answered 410 Gone" });
    expect((await notices()).map((n) => n.kind)).toEqual(["endpoint_disabled"]);
  });

  it("a disabled endpoint comes back only through validation, and the owner chooses to replay what it missed", async () => {
    const { owner, endpoint, alerts, dispatcher, row, received } = await setup("/policy/replay", 410);
    await alerts(1);
    await dispatcher.drain();
    expect((await row()).status).toBe("disabled");
    await expect(pauseEndpoint(owner, endpoint.id)).rejects.toMatchObject({ code: "conflict" });
    // Alerts while disabled get no delivery row at all...
    await alerts(2);
    expect(await db.delivery.count({ where: { endpointId: endpoint.id } })).toBe(1);
    // ...and re-enabling without saying what to do with them is refused.
    await expect(validateAgain(owner, { endpointId: endpoint.id })).rejects.toMatchObject({
      code: "validation",
      message: '2 alerts were missed meanwhile: choose "Replay" or "Start fresh".',
    });
    answers.set("/policy/replay", 200);
    const gets = receiver.requests.filter((r) => r.method === "GET").length;
    const validation = await validateAgain(owner, { endpointId: endpoint.id, backlog: "replay" });
    expect(validation.ok).toBe(true);
    expect(receiver.requests.filter((r) => r.method === "GET").length).toBe(gets + 1);
    expect(await row()).toMatchObject({ status: "active", inactiveSince: null, consecutiveFailures: 0 });
    const before = received().length;
    await new Dispatcher({ timeoutMs: 2_000, failurePolicy: policy }).drain();
    const replayed = received().slice(before).map((r) => JSON.parse(r.body).data.alert.title);
    expect(replayed.sort()).toEqual(["alert 0", "alert 1"]);
  });

  it("resuming with “Start fresh” expires what was queued, with the reason, and sends none of it", async () => {
    const { owner, endpoint, alerts, row, received } = await setup("/policy/fresh", 200);
    await pauseEndpoint(owner, endpoint.id);
    expect((await row()).inactiveSince).toBeInstanceOf(Date);
    await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { status: "active" } });
    await alerts(2); // queued while (briefly) active, never sent
    await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { status: "paused" } });
    await alerts(1); // missed while paused
    await expect(resumeEndpoint(owner, { endpointId: endpoint.id })).rejects.toMatchObject({ code: "validation" });
    await resumeEndpoint(owner, { endpointId: endpoint.id, backlog: "fresh" });
    expect((await row()).status).toBe("active");
    await new Dispatcher({ timeoutMs: 2_000, failurePolicy: policy }).drain();
    expect(received()).toHaveLength(0);
    const queued = await db.delivery.findMany({ where: { endpointId: endpoint.id } });
    expect(queued).toHaveLength(2);
    expect(queued.every((d) => d.status === "expired" && d.lastError === 'skipped: the endpoint came back with "Start fresh"')).toBe(true);
  });

  it("pausing parks the queue out of every claim's way; resuming with replay makes it due again", async () => {
    const { owner, endpoint, alerts, received } = await setup("/policy/park", 200);
    await alerts(3);
    await pauseEndpoint(owner, endpoint.id);
    const parked = await db.delivery.findMany({ where: { endpointId: endpoint.id }, select: { nextAttemptAt: true } });
    expect(parked.map((d) => d.nextAttemptAt!.getTime())).toEqual([PARKED_AT, PARKED_AT, PARKED_AT].map((d) => d.getTime()));
    await resumeEndpoint(owner, { endpointId: endpoint.id, backlog: "replay" });
    const due = await db.delivery.findMany({ where: { endpointId: endpoint.id }, select: { nextAttemptAt: true } });
    expect(due.every((d) => d.nextAttemptAt!.getTime() < Date.now() + 60_000)).toBe(true);
    await new Dispatcher({ timeoutMs: 2_000, failurePolicy: policy }).drain();
    expect(received()).toHaveLength(3);
  });

  it("editing a paused endpoint's URL keeps it paused; resuming then validates the new URL", async () => {
    const { owner, endpoint, row } = await setup("/policy/edit", 200);
    await pauseEndpoint(owner, endpoint.id);
    const result = await updateEndpoint(owner, { endpointId: endpoint.id, url: `${receiver.url}/policy/edit-new`, description: null });
    expect(result.validation).toBeNull();
    expect(await row()).toMatchObject({ status: "paused", activatedAt: null });
    const validation = await resumeEndpoint(owner, { endpointId: endpoint.id, backlog: "fresh" });
    expect(validation).toMatchObject({ ok: true });
    expect(receiver.requests.at(-1)!.path).toMatch(/^\/policy\/edit-new\//);
    expect((await row()).status).toBe("active");
  });

  it("deliveries queued for an endpoint that stays paused expire at the end of the retry window", async () => {
    const { owner, endpoint, alerts } = await setup("/policy/expire", 200);
    await alerts(1);
    await pauseEndpoint(owner, endpoint.id);
    expect(await expireStaleDeliveries(pool)).toBe(0);
    expect(await expireStaleDeliveries(pool, new Date(Date.now() + RETRY_WINDOW_MS + 60_000))).toBeGreaterThanOrEqual(1);
    const [delivery] = await db.delivery.findMany({ where: { endpointId: endpoint.id } });
    expect(delivery).toMatchObject({ status: "expired", nextAttemptAt: null, lastError: "expired: the endpoint was paused for the whole retry window" });
  });
});
