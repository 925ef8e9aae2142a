// Per-endpoint controls on PostgreSQL with real receivers: rolling the secret with an
// overlap (checked by independent verifiers holding only the old or only the new secret),
// event filters at enqueue, and custom headers.
import crypto from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db, pool } from "@/lib/db";
import { createActiveEndpoint, createMember } from "@/lib/testing/factories";
import { startReceiver, type Received, type Receiver } from "@/lib/testing/receiver";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { validateAgain } from "@/lib/webhooks/endpoints/lifecycle";
import {
  addCustomHeader,
  addHeaderSchema,
  endSecretOverlap,
  purgeExpiredSecrets,
  removeCustomHeader,
  revealSecret,
  rollSecret,
  updateFilter,
  updateFilterSchema,
} from "@/lib/webhooks/endpoints/settings";
import { readCustomHeaders, sealCustomHeaders } from "@/lib/webhooks/endpoints/custom-headers";
import { describeFilter } from "@/lib/webhooks/endpoints/filters";

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver(() => ({ status: 200 }));
});
afterAll(() => receiver.close());

// The receivers' own code: nothing of ours.
const hexOk = (request: Received, header: string, secret: string) =>
  request.headers[header] === crypto.createHmac("sha256", secret).update(request.body).digest("hex");
const standardOk = (request: Received, secret: string) => {
  try {
    new Webhook(secret).verify(request.body, {
      "webhook-id": String(request.headers["webhook-id"]),
      "webhook-timestamp": String(request.headers["webhook-timestamp"]),
      "webhook-signature": String(request.headers["webhook-signature"]),
    });
    return true;
  } catch {
    return false;
  }
};

async function sendOne(owner: Awaited<ReturnType<typeof createMember>>, path: string) {
  await db.$transaction((tx) => ingestAlert(tx, owner.team, { title: "rolled", severity: "critical", status: "triggered" }));
  await new Dispatcher({ timeoutMs: 2_000 }).drain();
  return receiver.requests.filter((r) => r.path === path && r.method === "POST").at(-1)!;
}

describe("rolling the secret", () => {
  it("during the overlap a receiver with only the old secret and one with only the new both verify both headers' way", async () => {
    const owner = await createMember("owner");
    const path = `/roll/${Date.now()}`;
    const { endpoint, secret: oldSecret } = await createActiveEndpoint(owner.team.id, `${receiver.url}${path}`);
    await rollSecret(owner, { endpointId: endpoint.id, overlap: "24h" });
    const newSecret = await revealSecret(owner, endpoint.id);
    expect(newSecret).not.toBe(oldSecret);
    expect(newSecret).toMatch(/^whsec_/);
    expect(await revealSecret(owner, endpoint.id, "previous")).toBe(oldSecret);

    const during = await sendOne(owner, path);
    // Old-secret receivers need no change at all; new-secret ones read the -next header.
    expect(hexOk(during, "x-mon1tor-sha256-wh", oldSecret)).toBe(true);
    expect(hexOk(during, "x-mon1tor-sha256-wh-next", newSecret)).toBe(true);
    expect(hexOk(during, "x-mon1tor-sha256-wh", newSecret)).toBe(false);
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(standardOk(during, oldSecret)).toBe(true);
    expect(standardOk(during, newSecret)).toBe(true);

    // Switch now: the new secret alone signs, in the usual header.
    await endSecretOverlap(owner, endpoint.id);
    const after = await sendOne(owner, path);
    expect(hexOk(after, "x-mon1tor-sha256-wh", newSecret)).toBe(true);
    expect(after.headers["x-mon1tor-sha256-wh-next"]).toBeUndefined();
    expect(standardOk(after, oldSecret)).toBe(false);
    expect(standardOk(after, newSecret)).toBe(true);
    await expect(revealSecret(owner, endpoint.id, "previous")).rejects.toMatchObject({ code: "not_found" });
    const audit = await db.auditLog.findMany({ where: { teamId: owner.team.id, targetId: endpoint.id }, select: { action: true } });
    expect(audit.map((row) => row.action)).toEqual(expect.arrayContaining(["endpoint.secret_roll", "endpoint.secret_switch"]));
  });

  it("two rolls at the same moment apply one after the other: the overlap keeps the first roll's secret, not the original", async () => {
    const owner = await createMember("owner");
    const { endpoint, secret: original } = await createActiveEndpoint(owner.team.id, `${receiver.url}/double-roll/${Date.now()}`);
    await Promise.all([rollSecret(owner, { endpointId: endpoint.id, overlap: "24h" }), rollSecret(owner, { endpointId: endpoint.id, overlap: "24h" })]);
    const current = await revealSecret(owner, endpoint.id);
    const previous = await revealSecret(owner, endpoint.id, "previous");
    expect(new Set([original, current, previous]).size).toBe(3);
  });

  it("after the overlap ends the old secret is gone from the database; rolls are limited to 5 a day", async () => {
    const owner = await createMember("admin");
    const { endpoint } = await createActiveEndpoint(owner.team.id, `${receiver.url}/roll-expiry`);
    await rollSecret(owner, { endpointId: endpoint.id, overlap: "1h" });
    expect((await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).previousSecretCiphertext).not.toBeNull();
    expect(await purgeExpiredSecrets(pool)).toBe(0);
    expect(await purgeExpiredSecrets(pool, new Date(Date.now() + 3_601_000))).toBeGreaterThanOrEqual(1);
    expect(await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toMatchObject({ previousSecretCiphertext: null, previousSecretExpiresAt: null });
    for (let i = 0; i < 4; i++) await rollSecret(owner, { endpointId: endpoint.id, overlap: "now" });
    await expect(rollSecret(owner, { endpointId: endpoint.id, overlap: "now" })).rejects.toMatchObject({
      code: "rate_limited",
      message: expect.stringMatching(/^Too many secret rolls for this endpoint: the limit is 5 per day\. Try again in \d+ hours\.$/),
    });
  });
});

describe("event filters", () => {
  it("filter at enqueue: a filtered-out endpoint gets no delivery row", async () => {
    const owner = await createMember("member");
    const { endpoint: picky } = await createActiveEndpoint(owner.team.id, `${receiver.url}/picky`);
    const { endpoint: all } = await createActiveEndpoint(owner.team.id, `${receiver.url}/all`);
    const input = updateFilterSchema.parse({ endpointId: picky.id, eventTypes: ["alert.triggered"], severities: ["critical", "warning"], monitorIds: "db-1, db-2,\nweb server 1" });
    expect((await updateFilter(owner, input)).summary).toBe("Critical and warning, triggered, monitors db-1, db-2, web server 1");
    const ingest = (severity: "critical" | "warning" | "info", monitor: string, status: "triggered" | "resolved" = "triggered") =>
      db.$transaction((tx) => ingestAlert(tx, owner.team, { title: "x", severity, status, monitor: { id: monitor, name: monitor } }));
    const count = async (endpointId: string) => db.delivery.count({ where: { endpointId } });
    await ingest("info", "db-1");
    await ingest("critical", "web-9");
    await ingest("critical", "db-1", "resolved");
    expect(await count(picky.id)).toBe(0);
    expect(await count(all.id)).toBe(3);
    await ingest("warning", "db-2");
    expect(await count(picky.id)).toBe(1);
    // An id with spaces is one id, not three.
    await ingest("critical", "web");
    await ingest("critical", "web server 1");
    expect(await count(picky.id)).toBe(2);
    expect(await db.auditLog.count({ where: { teamId: owner.team.id, action: "endpoint.filter" } })).toBe(1);
  });

  it("all boxes ticked means everything; none ticked is refused with a clear message", () => {
    expect(updateFilterSchema.parse({ endpointId: "e", eventTypes: ["alert.triggered", "alert.resolved"], severities: ["info", "critical", "warning"] })).toMatchObject({ eventTypes: [], severities: [], monitorIds: [] });
    expect(describeFilter({ eventTypes: [], severities: [], monitorIds: [] })).toBe("All severities, triggered and resolved");
    const refused = updateFilterSchema.safeParse({ endpointId: "e", eventTypes: ["alert.resolved"] });
    expect(refused.success).toBe(false);
    expect(refused.error!.issues[0]).toMatchObject({ path: ["severities"], message: "Choose at least one severity." });
  });
});

describe("custom headers", () => {
  it("arrive with deliveries and validation, encrypted at rest; ours can never be overridden", async () => {
    const owner = await createMember("member");
    const path = `/headers/${Date.now()}`;
    const { endpoint } = await createActiveEndpoint(owner.team.id, `${receiver.url}${path}`);
    await addCustomHeader(owner, addHeaderSchema.parse({ endpointId: endpoint.id, name: "Authorization", value: "Bearer gateway-token-123" }));
    await addCustomHeader(owner, addHeaderSchema.parse({ endpointId: endpoint.id, name: "X-Tenant", value: "acme" }));
    // A valid header name that is also Object.prototype's accessor: it was once dropped silently.
    await addCustomHeader(owner, addHeaderSchema.parse({ endpointId: endpoint.id, name: "__proto__", value: "kept" }));
    const row = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    expect(row.customHeadersCiphertext).not.toContain("gateway-token-123");

    const delivered = await sendOne(owner, path);
    expect(delivered.headers.authorization).toBe("Bearer gateway-token-123");
    expect(delivered.headers["x-tenant"]).toBe("acme");
    expect(delivered.rawHeaders.join("\n")).toContain("__proto__\nkept");
    await validateAgain(owner, { endpointId: endpoint.id });
    const validation = receiver.requests.filter((r) => r.method === "GET" && r.path.startsWith(`${path}/`)).at(-1)!;
    expect(validation.headers.authorization).toBe("Bearer gateway-token-123");

    for (const name of ["Content-Type", "x-mon1tor-sha256-wh", "X-Mon1tor-Anything", "webhook-id", "Webhook-Signature", "Host", "content-length"]) {
      const parsed = addHeaderSchema.safeParse({ endpointId: endpoint.id, name, value: "x" });
      expect(parsed.success, name).toBe(false);
      expect(parsed.error!.issues[0]!.message, name).toMatch(/cannot be (set|overridden)/);
    }
    expect(addHeaderSchema.safeParse({ endpointId: endpoint.id, name: "X-Ok", value: "a\r\nInjected: yes" }).success).toBe(false);
    // Characters the HTTP client refuses (every delivery would fail) or a UTF-8 reader cannot decode, named in the message.
    for (const [value, shown] of [["€uro", "“€” (U+20AC)"], ["t\u00e9st", "“é” (U+00E9)"], ["a\u0001b", "U+0001"], ["a\u007fb", "U+007F"]]) {
      const parsed = addHeaderSchema.safeParse({ endpointId: endpoint.id, name: "X-Ok", value });
      expect(parsed.error?.issues[0]?.message, value).toBe(`A header value can use printable ASCII characters only, not ${shown}.`);
    }
    expect(addHeaderSchema.parse({ endpointId: endpoint.id, name: "X-Ok", value: "  padded\tvalue " }).value).toBe("padded\tvalue");
    expect(addHeaderSchema.safeParse({ endpointId: endpoint.id, name: "Bad Name", value: "x" }).success).toBe(false);

    for (let i = 0; i < 2; i++) await addCustomHeader(owner, addHeaderSchema.parse({ endpointId: endpoint.id, name: `X-Extra-${i}`, value: "v" }));
    await expect(addCustomHeader(owner, addHeaderSchema.parse({ endpointId: endpoint.id, name: "X-Sixth", value: "v" }))).rejects.toMatchObject({
      message: "An endpoint has at most 5 custom headers. Remove one first.",
    });
    await removeCustomHeader(owner, endpoint.id, "x-tenant");
    const audit = await db.auditLog.findMany({ where: { teamId: owner.team.id, action: "endpoint.headers" } });
    expect(audit.length).toBeGreaterThanOrEqual(6);
    expect(JSON.stringify(audit)).not.toContain("gateway-token-123");
  });

  it("added at the same moment (two tabs, two team members), every header lands", async () => {
    const owner = await createMember("member");
    const { endpoint } = await createActiveEndpoint(owner.team.id, `${receiver.url}/concurrent-headers/${Date.now()}`);
    const names = ["X-One", "X-Two", "X-Three", "X-Four", "X-Five"];
    await Promise.all(names.map((name) => addCustomHeader(owner, addHeaderSchema.parse({ endpointId: endpoint.id, name, value: name.toLowerCase() }))));
    const row = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    expect(readCustomHeaders(row.customHeadersCiphertext).map((h) => h.name).sort()).toEqual([...names].sort());
  });

  it("one stored before its value was checked fails the delivery with a reason that points at it", async () => {
    const owner = await createMember("member");
    const path = `/legacy-header/${Date.now()}`;
    const { endpoint } = await createActiveEndpoint(owner.team.id, `${receiver.url}${path}`);
    await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { customHeadersCiphertext: sealCustomHeaders([{ name: "X-Legacy", value: "€uro" }]) } });
    await sendOne(owner, path);
    const delivery = await db.delivery.findFirstOrThrow({ where: { endpointId: endpoint.id } });
    expect(delivery.lastError).toBe("the request could not be built: a custom header's value holds a character HTTP does not allow; edit the endpoint's custom headers");
  });
});
