// Proof of control: echoing the token confirms ownership; teams can require it; endpoints
// that have not confirmed are rate-capped, and what is over the cap waits, never dropped.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db } from "@/lib/db";
import { createActiveEndpoint, createMember } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { TestClock } from "@/lib/testing/clock";
import { createEndpoint } from "@/lib/webhooks/endpoints/lifecycle";
import { applyTeamCaps } from "@/lib/webhooks/endpoints/ownership";
import { NOT_ECHOED_REASON } from "@/lib/webhooks/endpoints/validation";

let receiver: Receiver;
beforeAll(async () => {
  // /echo/… answers with the token (the last path segment) in a JSON body, like a Slack-style challenge.
  receiver = await startReceiver((r) =>
    r.method === "GET" && r.path.startsWith("/echo/") ? { status: 200, body: JSON.stringify({ challenge: r.path.split("/").at(-1) }) } : { status: 200, body: "ok" },
  );
});
afterAll(() => receiver.close());

const endpointRow = (id: string) => db.webhookEndpoint.findUniqueOrThrow({ where: { id } });

describe("ownership confirmation", () => {
  it("a response that echoes the token confirms ownership, with no cap; a bare 2xx validates, capped", async () => {
    const owner = await createMember("owner");
    const echoed = await createEndpoint(owner, { url: `${receiver.url}/echo/hook`, description: null });
    expect(echoed.validation).toMatchObject({ ok: true, ownershipConfirmed: true });
    const confirmed = await endpointRow(echoed.endpointId);
    expect(confirmed.ownershipConfirmedAt).toBeInstanceOf(Date);
    expect(confirmed.deliveryRateCap).toBeNull();

    const plain = await createEndpoint(owner, { url: `${receiver.url}/plain/hook`, description: null });
    expect(plain.validation).toMatchObject({ ok: true, ownershipConfirmed: false });
    expect(await endpointRow(plain.endpointId)).toMatchObject({ status: "active", ownershipConfirmedAt: null, deliveryRateCap: 5000 });
  });

  it("a team that requires confirmation leaves a non-echoing endpoint inactive, with the reason", async () => {
    const owner = await createMember("owner");
    await db.team.update({ where: { id: owner.team.id }, data: { requireOwnershipConfirmation: true } });
    const plain = await createEndpoint(owner, { url: `${receiver.url}/plain/required`, description: null });
    expect(plain.validation).toMatchObject({ ok: false, reason: NOT_ECHOED_REASON });
    expect(await endpointRow(plain.endpointId)).toMatchObject({ status: "failed", statusReason: NOT_ECHOED_REASON });
    const echoed = await createEndpoint(owner, { url: `${receiver.url}/echo/required`, description: null });
    expect(await endpointRow(echoed.endpointId)).toMatchObject({ status: "active" });
  });

  it("a team cap applies to confirmed endpoints too; unconfirmed ones get the lower of both", async () => {
    const owner = await createMember("owner");
    const { endpoint } = await createActiveEndpoint(owner.team.id, `${receiver.url}/capped/confirmed`);
    const plain = await db.webhookEndpoint.create({ data: { teamId: owner.team.id, url: `${receiver.url}/capped/plain`, status: "active", secretCiphertext: endpoint.secretCiphertext } });
    await db.$transaction((tx) => applyTeamCaps(tx, owner.team.id, 100_000));
    expect((await endpointRow(endpoint.id)).deliveryRateCap).toBe(100_000);
    expect((await endpointRow(plain.id)).deliveryRateCap).toBe(5000);
    await db.$transaction((tx) => applyTeamCaps(tx, owner.team.id, null));
    expect((await endpointRow(endpoint.id)).deliveryRateCap).toBeNull();
  });

  it("deliveries over an endpoint's cap wait for the next minute; none is dropped", async () => {
    const clock = new TestClock(new Date("2026-11-27T12:00:10Z"));
    const owner = await createMember("owner");
    const { endpoint } = await createActiveEndpoint(owner.team.id, `${receiver.url}/rate/${Date.now()}`);
    await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { deliveryRateCap: 4 } });
    await db.$transaction(async (tx) => {
      for (let i = 0; i < 10; i++) await ingestAlert(tx, owner.team, { title: `a${i}`, severity: "info", status: "triggered" }, clock.now());
    });
    const sent = () => receiver.requests.filter((r) => r.method === "POST" && r.path === new URL(endpoint.url).pathname).length;
    const dispatcher = new Dispatcher({ clock, timeoutMs: 2_000 });
    await dispatcher.drain();
    expect(sent()).toBe(4);
    clock.set(new Date("2026-11-27T12:00:50Z")); // same minute: nothing more
    await dispatcher.drain();
    expect(sent()).toBe(4);
    expect(await db.delivery.count({ where: { endpointId: endpoint.id, status: "pending" } })).toBe(6);
    clock.set(new Date("2026-11-27T12:01:05Z"));
    await dispatcher.drain();
    expect(sent()).toBe(8);
    clock.set(new Date("2026-11-27T12:02:05Z"));
    await dispatcher.drain();
    expect(sent()).toBe(10);
    expect(await db.delivery.count({ where: { endpointId: endpoint.id, status: "delivered" } })).toBe(10);
  });
});
