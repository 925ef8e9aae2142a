// The verification debugger names the right cause for each kind of mismatch.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db } from "@/lib/db";
import { createActiveEndpoint, createMember } from "@/lib/testing/factories";
import { startReceiver, type Received, type Receiver } from "@/lib/testing/receiver";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { rollSecret } from "@/lib/webhooks/endpoints/settings";
import { debugSignature, debugSignatureSchema } from "@/lib/webhooks/endpoints/signature-debugger";

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver(() => ({ status: 200 }));
});
afterAll(() => receiver.close());

const hmac = (key: string | Buffer, body: string, encoding: "hex" | "base64" = "hex") => crypto.createHmac("sha256", key).update(body).digest(encoding);
const paste = (request: Received, body = request.body, override: Record<string, string> = {}) => {
  const headers = { ...request.headers, ...override } as Record<string, string | undefined>;
  const lines = ["x-mon1tor-sha256-wh", "webhook-id", "webhook-timestamp", "webhook-signature", "content-type"]
    .filter((name) => headers[name] !== undefined)
    .map((name) => `${name}: ${headers[name]}`);
  return `${lines.join("\n")}\n\n${body}`;
};

async function setup() {
  const owner = await createMember("member");
  const path = `/debug/${crypto.randomBytes(4).toString("hex")}`;
  const { endpoint, secret } = await createActiveEndpoint(owner.team.id, `${receiver.url}${path}`);
  await db.$transaction((tx) => ingestAlert(tx, owner.team, { title: "Ünïcødé disk full", severity: "critical", status: "triggered", message: "line one" }));
  await new Dispatcher({ timeoutMs: 2_000 }).drain();
  const request = receiver.requests.filter((r) => r.path === path).at(-1)!;
  const check = (fields: { received?: string; computed?: string; deliveryId?: string }) =>
    debugSignature(owner, debugSignatureSchema.parse({ endpointId: endpoint.id, ...fields }));
  return { owner, endpoint, secret, request, check };
}

describe("signature debugger", () => {
  it("a recent delivery, or what the receiver got unchanged, checks out at every step", async () => {
    const { request, check } = await setup();
    for (const report of [await check({ deliveryId: String(request.headers["webhook-id"]) }), await check({ received: paste(request) })]) {
      expect(report.steps.every((step) => step.ok)).toBe(true);
      expect(report.steps.map((step) => step.title)).toEqual(["Signature header", "Body", "Secret", "Timestamp"]);
      expect(report.verdict).toMatch(/^Everything we sent checks out/);
    }
  });

  it("names what changed in the body", async () => {
    const { request, check } = await setup();
    const cases: [string, RegExp][] = [
      [`${request.body}\n`, /ends with a newline we did not send/],
      [`\uFEFF${request.body}`, /byte order mark/],
      [JSON.stringify(JSON.parse(request.body), null, 2).replace(/\n/g, "\r\n"), /same JSON re-serialized with other whitespace.*CRLF|same JSON re-serialized with other whitespace/],
      [JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(request.body)).reverse())), /same data re-serialized \(key order or escaping changed\)/],
      [Buffer.from(request.body, "utf8").toString("latin1"), /wrong character encoding \(Latin-1 instead of UTF-8\)/],
    ];
    for (const [body, cause] of cases) {
      const report = await check({ received: paste(request, body) });
      expect(report.steps.at(-1)).toMatchObject({ title: "Body", ok: false });
      expect(report.verdict, cause.source).toMatch(cause);
    }
  });

  it("names a missing or malformed header", async () => {
    const { request, check } = await setup();
    expect((await check({ received: `content-type: application/json\n\n${request.body}` })).verdict).toMatch(/^Signature header: there is no x-mon1tor-sha256-wh header/);
    const base64 = Buffer.from(String(request.headers["x-mon1tor-sha256-wh"]), "hex").toString("base64");
    expect((await check({ received: paste(request, request.body, { "x-mon1tor-sha256-wh": base64 }) })).verdict).toMatch(/looks like base64; we send 64 lower-case hex/);
  });

  it("names the secret mistake in the receiver's own computation", async () => {
    const { request, check, secret, owner } = await setup();
    const body = request.body;
    const keyBytes = Buffer.from(secret.slice("whsec_".length), "base64");
    const cases: [string, RegExp][] = [
      [hmac(secret, body, "base64"), /encoded the HMAC as base64; this header is hex/],
      [hmac(keyBytes, body), /keyed the HMAC with the base64-decoded secret/],
      [hmac(secret, `${body}\n`), /signed the body with a trailing newline/],
      [hmac(secret, JSON.stringify(JSON.parse(body), null, 2)), /signed a re-serialized \(pretty-printed\) body/],
      [hmac(secret, body).toUpperCase(), /upper-case hex/],
      [hmac("whsec_not-the-secret", body), /matches none of the usual mistakes/],
    ];
    for (const [computed, cause] of cases) {
      const report = await check({ received: paste(request), computed });
      expect(report.steps.at(-1)).toMatchObject({ title: "Your computation", ok: false });
      expect(report.verdict, cause.source).toMatch(cause);
    }
    expect((await check({ received: paste(request), computed: hmac(secret, body) })).steps.at(-1)).toMatchObject({ title: "Timestamp", ok: true });

    // Another endpoint's secret.
    const { secret: otherSecret } = await createActiveEndpoint(owner.team.id, `${receiver.url}/debug-other`);
    expect((await check({ received: paste(request), computed: hmac(otherSecret, body) })).verdict).toMatch(/used the secret of another endpoint \(.*\/debug-other\)/);
  });

  it("after a roll: the previous secret is recognised, and a stale timestamp is named", async () => {
    const { request, check, endpoint, owner, secret } = await setup();
    await rollSecret(owner, { endpointId: endpoint.id, overlap: "24h" });
    const report = await check({ received: paste(request), computed: hmac(secret, request.body) });
    expect(report.steps.find((step) => step.title === "Secret")).toMatchObject({ ok: true, detail: expect.stringMatching(/previous secret/) });
    const stale = String(Math.floor(Date.now() / 1000) - 3600);
    expect((await check({ received: paste(request, request.body, { "webhook-timestamp": stale }) })).verdict).toMatch(
      /^Timestamp: webhook-timestamp is 60 minutes old: outside the 5-minute tolerance/,
    );
  });

  it("reads a curl command", async () => {
    const { request, check } = await setup();
    const curl = `curl -X POST https://example.com/hook -H 'content-type: application/json' -H 'x-mon1tor-sha256-wh: ${request.headers["x-mon1tor-sha256-wh"]}' -H 'webhook-id: ${request.headers["webhook-id"]}' --data-raw '${request.body.replace(/'/g, "\\'")}'`;
    expect((await check({ received: curl })).steps.slice(0, 3).every((step) => step.ok)).toBe(true);
  });
});
