// TLS certificate expiry, read from real https receivers on 127.0.0.1 whose certificates a
// locally generated CA signed. The CA is trusted through the explicit setting
// (MON1TOR_EXTRA_CA_CERTS → DestinationPolicy.ca); verification itself is never turned off.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { encrypt } from "@/lib/crypto/encryption";
import { db } from "@/lib/db";
import { parseServerEnv } from "@/lib/env";
import { createCa, createServerCertificate, type Pem } from "@/lib/testing/certificates";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { generateSecret } from "@/lib/webhooks/endpoints/secret";
import { systemResolver, type DestinationPolicy } from "@/lib/webhooks/delivery/ssrf";
import { trustedCas } from "@/lib/webhooks/delivery/tls";
import { validateEndpoint } from "@/lib/webhooks/endpoints/validation";

const DAY = 86400_000;
let ca: Pem & { file: string };
const receivers: Receiver[] = [];
const trusting = (): DestinationPolicy => ({ allowPrivate: true, allowedCidrs: [], requireHttps: false, resolve: systemResolver, ca: trustedCas(ca.file) });

async function httpsReceiver(validity: { notBefore?: Date; notAfter: Date }) {
  const receiver = await startReceiver(() => ({ status: 200 }), { tls: await createServerCertificate(ca, validity) });
  receivers.push(receiver);
  return receiver;
}

async function pendingEndpoint(url: string) {
  const team = await createTeam();
  const endpoint = await db.webhookEndpoint.create({ data: { teamId: team.id, url, secretCiphertext: encrypt(generateSecret()) } });
  return { team, endpoint };
}

const notifications = (endpointId: string) => db.notification.findMany({ where: { endpointId }, orderBy: { createdAt: "asc" } });

beforeAll(async () => {
  ca = await createCa();
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  fs.rmSync(path.dirname(ca.file), { recursive: true, force: true });
});

describe("TLS certificate expiry", () => {
  it("verifies certificates: without the CA, a self-signed chain fails validation", async () => {
    const receiver = await httpsReceiver({ notAfter: new Date(Date.now() + 90 * DAY) });
    const { endpoint } = await pendingEndpoint(`${receiver.url}/tls/untrusted`);
    const untrusting: DestinationPolicy = { ...trusting(), ca: undefined };
    const outcome = await validateEndpoint(endpoint, untrusting);
    expect(outcome.ok).toBe(false);
    expect(outcome.reason).toMatch(/^TLS certificate error/);
    expect(receiver.requests).toHaveLength(0);
    expect(await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toMatchObject({ status: "failed" });
  });

  it("reads the expiry during validation and deliveries, and warns once when under 14 days", async () => {
    const notAfter = new Date(Math.floor((Date.now() + 5 * DAY) / 1000) * 1000);
    const receiver = await httpsReceiver({ notAfter });
    const { team, endpoint } = await pendingEndpoint(`${receiver.url}/tls/expiring`);
    const policy = trusting();
    expect((await validateEndpoint(endpoint, policy)).ok).toBe(true);
    const stored = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    expect(stored.status).toBe("active");
    expect(stored.tlsCertExpiresAt?.toISOString()).toBe(notAfter.toISOString());
    expect(stored.tlsCertCheckedAt).not.toBeNull();
    const warned = await notifications(endpoint.id);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ kind: "certificate_expiring", teamId: team.id });
    expect(warned[0]!.message).toContain(notAfter.toISOString().slice(0, 10));

    // Deliveries see the same certificate: stored again, never a second warning.
    await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { tlsCertCheckedAt: new Date(Date.now() - 2 * 3600_000) } });
    for (let i = 0; i < 3; i++) await db.$transaction((tx) => ingestAlert(tx, team, { title: `tls ${i}`, severity: "info", status: "triggered" }));
    const stats = await new Dispatcher({ policy, timeoutMs: 5_000 }).drain();
    expect(stats.delivered).toBe(3);
    const after = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    expect(after.tlsCertExpiresAt?.toISOString()).toBe(notAfter.toISOString());
    expect(after.tlsCertCheckedAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await notifications(endpoint.id)).toHaveLength(1);
  });

  it("stores a far-off expiry without a warning, and a renewed certificate replaces a warned one", async () => {
    const longLived = new Date(Math.floor((Date.now() + 90 * DAY) / 1000) * 1000);
    const receiver = await httpsReceiver({ notAfter: longLived });
    const { endpoint } = await pendingEndpoint(`${receiver.url}/tls/fine`);
    expect((await validateEndpoint(endpoint, trusting())).ok).toBe(true);
    expect((await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).tlsCertExpiresAt?.toISOString()).toBe(longLived.toISOString());
    expect(await notifications(endpoint.id)).toHaveLength(0);

    // The same endpoint, first warned about a certificate expiring in 3 days, then renewed.
    const soon = await httpsReceiver({ notAfter: new Date(Date.now() + 3 * DAY) });
    const team = await createTeam();
    const { endpoint: renewed } = await createActiveEndpoint(team.id, `${soon.url}/tls/renewed`);
    await db.$transaction((tx) => ingestAlert(tx, team, { title: "before renewal", severity: "info", status: "triggered" }));
    await new Dispatcher({ policy: trusting(), timeoutMs: 5_000 }).drain();
    expect((await notifications(renewed.id)).map((n) => n.kind)).toEqual(["certificate_expiring"]);
    const later = await httpsReceiver({ notAfter: longLived });
    await db.webhookEndpoint.update({ where: { id: renewed.id }, data: { url: `${later.url}/tls/renewed` } });
    await db.$transaction((tx) => ingestAlert(tx, team, { title: "after renewal", severity: "info", status: "triggered" }));
    await new Dispatcher({ policy: trusting(), timeoutMs: 5_000 }).drain();
    expect((await db.webhookEndpoint.findUniqueOrThrow({ where: { id: renewed.id } })).tlsCertExpiresAt?.toISOString()).toBe(longLived.toISOString());
    expect(await notifications(renewed.id)).toHaveLength(1);
  });

  it("an expired certificate fails validation, is shown as expired and notified once", async () => {
    const receiver = await httpsReceiver({ notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
    const { endpoint } = await pendingEndpoint(`${receiver.url}/tls/expired`);
    const outcome = await validateEndpoint(endpoint, trusting());
    expect(outcome.ok).toBe(false);
    expect(outcome.reason).toMatch(/expired/i);
    expect(receiver.requests).toHaveLength(0);
    const stored = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    expect(stored.tlsCertExpiresAt!.getTime()).toBeLessThanOrEqual(Date.now());
    await validateEndpoint(endpoint, trusting());
    const sent = await notifications(endpoint.id);
    expect(sent.map((n) => n.kind)).toEqual(["certificate_expired"]);
    expect(sent[0]!.message).toContain("has expired");
  });

  it("MON1TOR_EXTRA_CA_CERTS must name a readable PEM file", () => {
    expect(trustedCas(undefined)).toBeUndefined();
    expect(trustedCas(ca.file)).toContain(ca.cert);
    expect(() => trustedCas("/nonexistent/ca.pem")).toThrow(/MON1TOR_EXTRA_CA_CERTS: cannot read \/nonexistent\/ca.pem/);
    expect(() => trustedCas(__filename)).toThrow(/holds no PEM certificate/);
    const parsed = parseServerEnv({ ...process.env, MON1TOR_EXTRA_CA_CERTS: ca.file });
    expect(parsed.MON1TOR_EXTRA_CA_CERTS).toBe(ca.file);
  });
});
