import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// sendTestEvent sends inline; `after` is only used for redelivery. Outside a Next request, run it now.
vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: (task: () => unknown) => void Promise.resolve().then(task),
}));
import { decrypt } from "@/lib/crypto/encryption";
import { db } from "@/lib/db";
import { createMember } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { freePort } from "@/scripts/lib/embedded-postgres";
import {
  createEndpoint,
  deleteEndpoint,
  pauseEndpoint,
  resumeEndpoint,
  validateAgain,
  updateEndpoint,
} from "@/lib/webhooks/endpoints/lifecycle";
import { revealSecret } from "@/lib/webhooks/endpoints/settings";
import { USER_AGENT } from "@/lib/webhooks/delivery/outbound";
import { sendTestEvent } from "@/lib/webhooks/endpoints/test-send";
import { hit, limits } from "@/lib/rate-limit";

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

const endpointRow = (id: string) => db.webhookEndpoint.findUniqueOrThrow({ where: { id } });
const add = async (url: string) => {
  const owner = await createMember("member");
  const result = await createEndpoint(owner, { url, description: null });
  return { owner, result, endpoint: await endpointRow(result.endpointId) };
};

describe("token validation against a real receiver", () => {
  it("a 204 makes the endpoint Active; the receiver saw GET <url>/<stored token>", async () => {
    receiver.respond(() => ({ status: 204 }));
    const before = receiver.requests.length;
    const { result, endpoint } = await add(`${receiver.url}/webhook/mon1tor?team=a`);
    expect(result.validation).toEqual({ ok: true, reason: null, statusCode: 204, ownershipConfirmed: false });
    expect(endpoint.status).toBe("active");
    expect(endpoint.activatedAt).toBeInstanceOf(Date);

    const attempts = await db.validationAttempt.findMany({ where: { endpointId: endpoint.id } });
    expect(attempts).toHaveLength(1);
    const [attempt] = attempts;
    expect(attempt!.token.length).toBeGreaterThanOrEqual(22); // ≥ 128 bits of base64url
    expect(attempt!.token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(attempt).toMatchObject({ ok: true, statusCode: 204, errorClass: null });
    expect(attempt!.durationMs).toBeGreaterThanOrEqual(0);

    const seen = receiver.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe("GET");
    expect(seen[0]!.path).toBe(`/webhook/mon1tor/${attempt!.token}?team=a`);
    expect(seen[0]!.headers["x-mon1tor-validation-token"]).toBe(attempt!.token);
    expect(seen[0]!.headers["user-agent"]).toBe(USER_AGENT);
  });

  it("each attempt uses a fresh token", async () => {
    receiver.respond(() => ({ status: 200 }));
    const { owner, endpoint } = await add(`${receiver.url}/fresh`);
    await validateAgain(owner, { endpointId: endpoint.id });
    const tokens = (await db.validationAttempt.findMany({ where: { endpointId: endpoint.id } })).map((a) => a.token);
    expect(tokens).toHaveLength(2);
    expect(new Set(tokens).size).toBe(2);
  });

  it("a 404 leaves it failed with the reason", async () => {
    receiver.respond(() => ({ status: 404 }));
    const { endpoint } = await add(`${receiver.url}/missing`);
    expect(endpoint).toMatchObject({ status: "failed", statusReason: "answered 404 Not Found", activatedAt: null });
    const attempt = await db.validationAttempt.findFirstOrThrow({ where: { endpointId: endpoint.id } });
    expect(attempt).toMatchObject({ ok: false, statusCode: 404, errorClass: "http_status" });
  });

  it("a 302 fails, and the redirect target receives nothing", async () => {
    const target = await startReceiver(() => ({ status: 200 }));
    receiver.respond(() => ({ status: 302, headers: { location: `${target.url}/elsewhere` } }));
    const { endpoint } = await add(`${receiver.url}/redirects`);
    expect(endpoint).toMatchObject({ status: "failed", statusReason: "answered 302: redirects are not followed" });
    expect(target.requests).toHaveLength(0);
    await target.close();
  });

  it("a receiver that never answers times out after 10 s", async () => {
    receiver.respond(() => "hang");
    const { endpoint } = await add(`${receiver.url}/slow`);
    expect(endpoint).toMatchObject({ status: "failed", statusReason: "timed out after 10 s" });
    const attempt = await db.validationAttempt.findFirstOrThrow({ where: { endpointId: endpoint.id } });
    expect(attempt.errorClass).toBe("timeout");
    expect(attempt.durationMs).toBeGreaterThanOrEqual(9_900);
  }, 20_000);

  it("a closed port is 'connection refused'", async () => {
    const { endpoint } = await add(`http://127.0.0.1:${await freePort()}/hook`);
    expect(endpoint).toMatchObject({ status: "failed", statusReason: "connection refused" });
  });

  it("a host that does not resolve is 'could not resolve host'", async () => {
    const { endpoint } = await add("http://no-such-host.invalid/hook");
    expect(endpoint).toMatchObject({ status: "failed", statusReason: "could not resolve host" });
  });

  it("fixing the receiver and validating again activates it", async () => {
    receiver.respond(() => ({ status: 500 }));
    const { owner, endpoint } = await add(`${receiver.url}/flaky`);
    expect(endpoint.statusReason).toBe("answered 500 Internal Server Error");
    receiver.respond(() => ({ status: 200 }));
    expect((await validateAgain(owner, { endpointId: endpoint.id })).ok).toBe(true);
    expect((await endpointRow(endpoint.id)).status).toBe("active");
  });

  it("a crash in our own code still ends in 'Validation failed' with 'internal error'", async () => {
    const owner = await createMember("admin");
    const broken = await db.webhookEndpoint.create({
      data: { teamId: owner.team.id, url: "not a url at all", secretCiphertext: "x" },
    });
    const outcome = await validateAgain(owner, { endpointId: broken.id });
    expect(outcome).toEqual({ ok: false, reason: "internal error", statusCode: null, ownershipConfirmed: false });
    expect(await endpointRow(broken.id)).toMatchObject({ status: "failed", statusReason: "internal error" });
  });
});

describe("endpoint lifecycle", () => {
  it("creates a whsec_ secret of 32 random bytes, stored encrypted", async () => {
    receiver.respond(() => ({ status: 204 }));
    const { owner, endpoint } = await add(`${receiver.url}/secret`);
    const secret = await revealSecret(owner, endpoint.id);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(decrypt(endpoint.secretCiphertext)).toBe(secret);
    const raw = await db.$queryRaw<{ found: bigint }[]>`
      SELECT count(*) AS found FROM "WebhookEndpoint" WHERE "secretCiphertext" LIKE ${`%${secret.slice(6, 30)}%`}`;
    expect(Number(raw[0]!.found)).toBe(0);
    const reveals = await db.auditLog.findMany({ where: { teamId: owner.team.id, action: "endpoint.secret_reveal" } });
    expect(reveals).toHaveLength(1);
    expect(reveals[0]).toMatchObject({ actorId: owner.user.id, targetId: endpoint.id });
    expect(JSON.stringify(reveals[0])).not.toContain(secret);
  });

  it("refuses the same URL twice in one team, but not across teams", async () => {
    receiver.respond(() => ({ status: 204 }));
    const { owner } = await add(`${receiver.url}/dup`);
    await expect(createEndpoint(owner, { url: `${receiver.url}/dup`, description: null })).rejects.toMatchObject({
      code: "conflict",
      message: "This team already has an endpoint with this URL.",
    });
    await expect(add(`${receiver.url}/dup`)).resolves.toBeTruthy();
  });

  it("caps the number of endpoints per team", async () => {
    const owner = await createMember("owner");
    await db.webhookEndpoint.createMany({
      data: Array.from({ length: 50 }, (_, i) => ({ teamId: owner.team.id, url: `https://example.com/${i}`, secretCiphertext: "x" })),
    });
    await expect(createEndpoint(owner, { url: `${receiver.url}/one-more`, description: null })).rejects.toMatchObject({
      code: "conflict",
      message: "This team has reached its limit of 50 webhook endpoints. Delete one to add another.",
    });
    expect(await db.webhookEndpoint.count({ where: { teamId: owner.team.id } })).toBe(50);
  });

  it("changing the URL sends it back to pending and validates the new URL", async () => {
    receiver.respond(() => ({ status: 204 }));
    const { owner, endpoint } = await add(`${receiver.url}/old`);
    receiver.respond(() => ({ status: 404 }));
    const result = await updateEndpoint(owner, { endpointId: endpoint.id, url: `${receiver.url}/new`, description: "moved" });
    expect(result.validation?.ok).toBe(false);
    const updated = await endpointRow(endpoint.id);
    expect(updated).toMatchObject({ url: `${receiver.url}/new`, status: "failed", activatedAt: null, description: "moved" });
  });

  it("pause keeps history; resume reactivates a validated endpoint; delete removes it", async () => {
    receiver.respond(() => ({ status: 204 }));
    const { owner, endpoint } = await add(`${receiver.url}/pause`);
    await pauseEndpoint(owner, endpoint.id);
    expect((await endpointRow(endpoint.id)).status).toBe("paused");
    await expect(validateAgain(owner, { endpointId: endpoint.id })).rejects.toMatchObject({ code: "conflict" });
    await resumeEndpoint(owner, { endpointId: endpoint.id });
    expect((await endpointRow(endpoint.id)).status).toBe("active");
    await deleteEndpoint(owner, endpoint.id);
    expect(await db.webhookEndpoint.findUnique({ where: { id: endpoint.id } })).toBeNull();
    const actions = (await db.auditLog.findMany({ where: { teamId: owner.team.id }, orderBy: { createdAt: "asc" } })).map((a) => a.action);
    expect(actions).toEqual(["endpoint.create", "endpoint.pause", "endpoint.resume", "endpoint.delete"]);
  });
});

describe("rate limits on validation and test sends", () => {
  it("validating one endpoint again trips at 10 an hour, with a clear message", async () => {
    receiver.respond(() => ({ status: 204 }));
    const { owner, endpoint } = await add(`${receiver.url}/limited`);
    for (let i = 0; i < 10; i++) await validateAgain(owner, { endpointId: endpoint.id });
    const error = await validateAgain(owner, { endpointId: endpoint.id }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "rate_limited",
      message: expect.stringMatching(/^Too many validation attempts for this endpoint: the limit is 10 per hour\. Try again in \d+ minutes?\.$/),
    });
    expect(await db.validationAttempt.count({ where: { endpointId: endpoint.id } })).toBe(11);
  });

  it("a team over its validation limit gets a clear refusal, and no endpoint is left pending", async () => {
    const owner = await createMember("owner");
    for (let i = 0; i < 100; i++) await hit(limits.validationPerTeam(owner.team.id));
    await expect(createEndpoint(owner, { url: `${receiver.url}/team-limit`, description: null })).rejects.toMatchObject({
      code: "rate_limited",
      message: expect.stringMatching(/^Too many validation attempts for this team: the limit is 100 per hour\./),
    });
    expect(await db.webhookEndpoint.count({ where: { teamId: owner.team.id } })).toBe(0);
  });

  it("test alerts trip at 10 a minute per endpoint", async () => {
    receiver.respond(() => ({ status: 204 }));
    const { owner, endpoint } = await add(`${receiver.url}/test-limit`);
    for (let i = 0; i < 10; i++) await sendTestEvent(owner, endpoint.id);
    await expect(sendTestEvent(owner, endpoint.id)).rejects.toMatchObject({
      code: "rate_limited",
      message: expect.stringMatching(/^Too many test alerts for this endpoint: the limit is 10 per minute\. Try again in (\d+ seconds?|1 minute)\.$/),
    });
    expect(await db.delivery.count({ where: { endpointId: endpoint.id } })).toBe(10);
  });
});
