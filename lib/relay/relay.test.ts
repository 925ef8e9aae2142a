// CLI relays on the server: the dispatcher's side of a relayed attempt (the CLI's part is played
// here by reading RelayRequest and answering as the responses route does; e2e/relay.spec.ts runs
// the real CLI), the reconnect window, removal, and what connecting refuses.
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { requirePermission, type AuthenticatedKey } from "@/lib/api-keys/keys";
import { decrypt } from "@/lib/crypto/encryption";
import { db, pool } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { createTeam } from "@/lib/testing/factories";
import { waitUntil } from "@/lib/testing/worker-process";
import { answerRelayRequest } from "@/lib/relay/answers";
import { RELAY_EXPIRED_REASON, RELAY_RECONNECT_WINDOW_MS, RELAY_REMOVE_AFTER_MS, type RelayAnswer } from "@/lib/relay/protocol";
import { connectRelay, disconnectRelay, removeAbandonedRelays } from "@/lib/relay/relays";
import { expireStaleDeliveries } from "@/lib/webhooks/delivery/backlog";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { SIGNATURE_HEADER } from "@/lib/webhooks/delivery/sign";

async function keyOfNewTeam(): Promise<AuthenticatedKey> {
  const team = await createTeam();
  return { id: `key_${crypto.randomBytes(4).toString("hex")}`, name: "laptop", permissions: ["endpoints:manage"], team };
}

const name = () => `dev-${crypto.randomBytes(3).toString("hex")}`;
const alert = (key: AuthenticatedKey, title = "disk full") =>
  db.$transaction((tx) => ingestAlert(tx, key.team, { title, severity: "warning", status: "triggered" }));

/** Plays the CLI once: waits for the relay's request, checks it, and answers `answer`. */
async function answerAs(key: AuthenticatedKey, relayId: string, answer: Omit<RelayAnswer, "requestId">) {
  let request: { id: string; headersCiphertext: string; body: string } | null = null;
  await waitUntil(async () => (request = await db.relayRequest.findFirst({ where: { endpointId: relayId } })) !== null, 10_000, "the relay request");
  const { id, headersCiphertext, body } = request!;
  await answerRelayRequest(key, relayId, { requestId: id, ...answer });
  return { headers: JSON.parse(decrypt(headersCiphertext)) as Record<string, string>, body };
}

describe("relayed attempts", () => {
  it("carry the same signed bytes, and record the local receiver's answer like an HTTP attempt's", async () => {
    const key = await keyOfNewTeam();
    const relay = await connectRelay(key, { name: name() }, null);
    const { deliveryIds } = await alert(key);
    const drained = new Dispatcher({ timeoutMs: 10_000 }).drain({ ids: deliveryIds });
    const sent = await answerAs(key, relay.id, { statusCode: 201, durationMs: 7, headers: { "content-type": "text/plain" }, body: "ok from localhost" });
    expect(await drained).toMatchObject({ attempted: 1, delivered: 1 });
    expect(sent.headers[SIGNATURE_HEADER]).toBe(crypto.createHmac("sha256", relay.secret).update(sent.body).digest("hex"));
    expect(sent.headers["webhook-id"]).toBe(deliveryIds[0]);
    const event = await db.delivery.findUniqueOrThrow({ where: { id: deliveryIds[0] }, select: { event: { select: { body: true } } } });
    expect(sent.body).toBe(event.event.body);
    const attempt = await db.deliveryAttempt.findFirstOrThrow({ where: { deliveryId: deliveryIds[0] } });
    expect(attempt).toMatchObject({ statusCode: 201, durationMs: 7, responseExcerpt: "ok from localhost", errorMessage: null });
    // The request row served its purpose.
    expect(await db.relayRequest.count({ where: { endpointId: relay.id } })).toBe(0);
  });

  it("a local receiver that is down is a failed attempt with the CLI's reason, retried later", async () => {
    const key = await keyOfNewTeam();
    const relay = await connectRelay(key, { name: name() }, null);
    const { deliveryIds } = await alert(key);
    const drained = new Dispatcher({ timeoutMs: 10_000 }).drain({ ids: deliveryIds });
    await answerAs(key, relay.id, { statusCode: null, durationMs: 1, error: { class: "refused", message: "connection refused on localhost:4000" } });
    expect(await drained).toMatchObject({ attempted: 1, failed: 1 });
    expect(await db.delivery.findUniqueOrThrow({ where: { id: deliveryIds[0] } })).toMatchObject({ status: "retrying", lastError: "connection refused on localhost:4000" });
    expect(await db.deliveryAttempt.findFirstOrThrow({ where: { deliveryId: deliveryIds[0] } })).toMatchObject({ errorClass: "refused", errorMessage: "connection refused on localhost:4000" });
  });

  it("with no CLI taking the request, the attempt times out and says so", async () => {
    const key = await keyOfNewTeam();
    await connectRelay(key, { name: name() }, null);
    const { deliveryIds } = await alert(key);
    await new Dispatcher({ timeoutMs: 300 }).drain({ ids: deliveryIds });
    expect(await db.delivery.findUniqueOrThrow({ where: { id: deliveryIds[0] } })).toMatchObject({
      status: "retrying",
      lastError: "timed out after 0.3 s: no mon1tor listen took the request (the relay disconnected)",
    });
  });

  it("an answer is taken only from a key of the relay's own team, once", async () => {
    const key = await keyOfNewTeam();
    const relay = await connectRelay(key, { name: name() }, null);
    const { deliveryIds } = await alert(key);
    const drained = new Dispatcher({ timeoutMs: 10_000 }).drain({ ids: deliveryIds });
    await waitUntil(async () => (await db.relayRequest.count({ where: { endpointId: relay.id } })) > 0, 10_000, "the relay request");
    const { id } = await db.relayRequest.findFirstOrThrow({ where: { endpointId: relay.id } });
    const stranger = await keyOfNewTeam();
    await expect(answerRelayRequest(stranger, relay.id, { requestId: id, statusCode: 200, durationMs: 1 })).rejects.toMatchObject({ code: "not_found" });
    await answerRelayRequest(key, relay.id, { requestId: id, statusCode: 200, durationMs: 1 });
    await expect(answerRelayRequest(key, relay.id, { requestId: id, statusCode: 500, durationMs: 1 })).rejects.toMatchObject({ code: "not_found" });
    expect(await drained).toMatchObject({ delivered: 1 });
  });
});

describe("a disconnected relay", () => {
  it("is not sent to: its deliveries, and those of alerts sent meanwhile, wait for a CLI to reconnect", async () => {
    const key = await keyOfNewTeam();
    const relayName = name();
    const relay = await connectRelay(key, { name: relayName }, null);
    await disconnectRelay(pool, relay.id, relay.streamId);
    const { deliveryIds } = await alert(key, "while away");
    expect(deliveryIds).toHaveLength(1);
    expect(await new Dispatcher({ timeoutMs: 300 }).drain({ ids: deliveryIds })).toMatchObject({ attempted: 0 });
    // Within the window nothing expires.
    await expireStaleDeliveries(pool, new Date(Date.now() + RELAY_RECONNECT_WINDOW_MS - 60_000));
    expect(await db.delivery.findUniqueOrThrow({ where: { id: deliveryIds[0] } })).toMatchObject({ status: "pending" });

    const again = await connectRelay(key, { name: relayName }, null);
    expect(again.id).toBe(relay.id);
    const drained = new Dispatcher({ timeoutMs: 10_000 }).drain({ ids: deliveryIds });
    await answerAs(key, relay.id, { statusCode: 200, durationMs: 3 });
    expect(await drained).toMatchObject({ delivered: 1 });
  });

  it("past the reconnect window, its waiting deliveries expire with the reason", async () => {
    const key = await keyOfNewTeam();
    const relay = await connectRelay(key, { name: name() }, null);
    await disconnectRelay(pool, relay.id, relay.streamId);
    const { deliveryIds } = await alert(key);
    await expireStaleDeliveries(pool, new Date(Date.now() + RELAY_RECONNECT_WINDOW_MS + 60_000));
    expect(await db.delivery.findUniqueOrThrow({ where: { id: deliveryIds[0] } })).toMatchObject({ status: "expired", nextAttemptAt: null, lastError: RELAY_EXPIRED_REASON });
  });

  it("is removed, with its history, hours after its last connection; a connected one is kept", async () => {
    const key = await keyOfNewTeam();
    const gone = await connectRelay(key, { name: name() }, null);
    const live = await connectRelay(key, { name: name() }, null);
    await disconnectRelay(pool, gone.id, gone.streamId);
    await alert(key);
    await removeAbandonedRelays(pool, new Date(Date.now() + RELAY_REMOVE_AFTER_MS - 60_000));
    expect(await db.webhookEndpoint.count({ where: { id: gone.id } })).toBe(1);
    await removeAbandonedRelays(pool, new Date(Date.now() + RELAY_REMOVE_AFTER_MS + 60_000));
    expect(await db.webhookEndpoint.count({ where: { id: gone.id } })).toBe(0);
    expect(await db.delivery.count({ where: { endpointId: gone.id } })).toBe(0);
    expect(await db.webhookEndpoint.count({ where: { id: live.id } })).toBe(1);
  });
});

describe("connecting", () => {
  it("refuses a second CLI on a name that is connected, and a pinned secret replaces the relay's", async () => {
    const key = await keyOfNewTeam();
    const relayName = name();
    const first = await connectRelay(key, { name: relayName }, null);
    await expect(connectRelay(key, { name: relayName }, null)).rejects.toThrow(`A mon1tor listen named “${relayName}” is already connected to this team.`);
    await disconnectRelay(pool, first.id, first.streamId);
    const pinned = `whsec_${crypto.randomBytes(32).toString("base64")}`;
    const second = await connectRelay(key, { name: relayName, secret: pinned }, null);
    expect(second).toMatchObject({ id: first.id, secret: pinned });
    const stored = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: first.id } });
    expect(stored.secretCiphertext).not.toContain(pinned.slice(6));
    expect(stored).toMatchObject({ kind: "relay", status: "active", revalidateDaily: false, relayStreamId: second.streamId });
  });

  it("takes the endpoint's filters, refusing values it does not know by field", async () => {
    const key = await keyOfNewTeam();
    const relay = await connectRelay(key, { name: name(), severities: ["critical"], eventTypes: ["alert.triggered"], monitorIds: ["db-1"] }, null);
    expect(relay.filter).toBe("Critical, triggered, monitor db-1");
    // A warning alert does not go to it.
    const { deliveryIds } = await alert(key);
    expect(deliveryIds).toHaveLength(0);
    const refused = await connectRelay(key, { name: name(), severities: ["urgent"] }, null).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).fields).toHaveProperty("severities");
  });

  it("needs a key with the permission to manage endpoints", () => {
    const alertsOnly = { id: "k", name: "alerts", permissions: ["alerts:send"], team: { id: "t", name: "t" } };
    expect(() => requirePermission(alertsOnly, "endpoints:manage")).toThrow("This API key does not have the “Manage endpoints (mon1tor listen)” permission.");
    expect(() => requirePermission(alertsOnly, "alerts:send")).not.toThrow();
  });
});
