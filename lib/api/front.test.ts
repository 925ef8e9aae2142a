// The alert calls served in front of Next (lib/api/front.ts through lib/alerts/admission.ts), by
// the real route handlers, on a real HTTP server whose own handler stands in for Next.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as postAlert } from "@/app/api/v1/alerts/route";
import { POST as postBatch } from "@/app/api/v1/alerts/batch/route";
import { Admission, admitAlertCallsInFront } from "@/lib/alerts/admission";
import { createApiKey } from "@/lib/api-keys/keys";
import { db } from "@/lib/db";
import { createActiveEndpoint, createMember } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";

let server: http.Server;
let base: string;
let front: ReturnType<typeof admitAlertCallsInFront>;
let receiver: Receiver;
const toNext: string[] = [];
// One connection: every call below reuses it, so a call that left it unusable fails the next.
const agent = new Agent({ connections: 1, pipelining: 0 });

beforeAll(async () => {
  front = admitAlertCallsInFront(new Admission(), { api: postAlert, batch: postBatch });
  server = http.createServer((incoming, outgoing) => {
    toNext.push(`${incoming.method} ${incoming.url}`);
    incoming.resume();
    outgoing.writeHead(405, { "content-type": "application/json" });
    outgoing.end(`{"from":"next"}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver = await startReceiver();
});
afterAll(async () => {
  front.stop();
  await agent.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await receiver.close();
});

async function keyForNewTeam() {
  const owner = await createMember("owner");
  const { key } = await createApiKey(owner, { name: "front", permissions: ["alerts:send"] });
  return { owner, key };
}

const call = async (path: string, init: { method?: string; key?: string; body?: string | Buffer; contentType?: string }) => {
  const response = await request(`${base}${path}`, {
    method: (init.method ?? "POST") as "POST",
    headers: { ...(init.key ? { authorization: `Bearer ${init.key}` } : {}), "content-type": init.contentType ?? "application/json" },
    body: init.body,
    dispatcher: agent,
  });
  return { status: response.statusCode, headers: response.headers, json: (await response.body.json()) as Record<string, unknown> };
};

describe("alert calls served in front of Next", () => {
  it("takes an alert with the route's own handler: 202, stored, the same security headers as Next's, and sends it once answered", async () => {
    const { owner, key } = await keyForNewTeam();
    await createActiveEndpoint(owner.team.id, `${receiver.url}/front`);
    const before = toNext.length;
    const answer = await call("/api/v1/alerts", { key, body: JSON.stringify({ title: "served in front", severity: "critical" }) });
    expect(answer.status).toBe(202);
    expect(answer.json).toMatchObject({ deliveriesQueued: 1, deduplicated: false });
    expect(answer.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
    expect(toNext.length).toBe(before);
    expect(await db.alert.count({ where: { teamId: owner.team.id, title: "served in front" } })).toBe(1);
    // After the answer (afterAnswer in place of Next's after()): no worker listens here, so this process sends it.
    const [delivered] = await receiver.waitFor(1, 15_000);
    expect(JSON.parse(delivered!.body)).toMatchObject({ type: "alert.triggered", data: { alert: { title: "served in front" } } });
  });

  it("answers bad calls with the route's own 4xx and keeps the connection usable: no key, wrong type, a body over the limit", async () => {
    const { key } = await keyForNewTeam();
    expect((await call("/api/v1/alerts", { body: "{}" })).status).toBe(401);
    const wrongType = await call("/api/v1/alerts", { key, body: "title=x", contentType: "application/x-www-form-urlencoded" });
    expect(wrongType).toMatchObject({ status: 415, json: { error: { code: "unsupported_media_type" } } });
    // 64 KB is the single alert's limit: refused while the rest of the body is still arriving.
    const huge = await call("/api/v1/alerts", { key, body: JSON.stringify({ title: "x", message: "m".repeat(2_000_000) }) });
    expect(huge).toMatchObject({ status: 413, json: { error: { code: "payload_too_large" } } });
    const batch = await call("/api/v1/alerts/batch", { key, body: JSON.stringify({ alerts: [{ title: "one" }, { title: "" }] }) });
    expect(batch.status).toBe(200);
    expect(batch.json).toMatchObject({ accepted: 1, refused: 1 });
  });

  it("reads the body off the socket as the handler asks: UTF-8 as sent, bad JSON refused, an undeclared length cut off at the limit, the connection kept", async () => {
    const { owner, key } = await keyForNewTeam();
    const title = "Disque plein 🚨 sur db-1 — “prod”";
    expect((await call("/api/v1/alerts", { key, body: Buffer.from(JSON.stringify({ title }), "utf8") })).status).toBe(202);
    expect(await db.alert.count({ where: { teamId: owner.team.id, title } })).toBe(1);
    expect(await call("/api/v1/alerts", { key, body: '{"title": "x",' })).toMatchObject({ status: 400, json: { error: { code: "bad_request" } } });
    expect(await call("/api/v1/alerts", { key, body: Buffer.from([0x7b, 0xff, 0x7d]) })).toMatchObject({ status: 400, json: { error: { message: "The request body is not valid UTF-8 text." } } });
    // Sent in chunks with no Content-Length: refused once past 64 KB, the rest dropped as it arrives.
    const chunks = async function* () {
      yield Buffer.from('{"title": "x", "message": "');
      for (let i = 0; i < 40; i++) yield Buffer.from("m".repeat(16 * 1024));
      yield Buffer.from('"}');
    };
    const response = await request(`${base}/api/v1/alerts`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: Readable.from(chunks()),
      dispatcher: agent,
    });
    expect({ status: response.statusCode, json: await response.body.json() }).toMatchObject({ status: 413, json: { error: { code: "payload_too_large" } } });
    expect((await call("/api/v1/alerts", { key, body: JSON.stringify({ title: "after the cut-off" }) })).status).toBe(202);
  });

  it("leaves everything else to Next: other methods on these paths, other routes, and routes it was not given", async () => {
    const before = toNext.length;
    const { key } = await keyForNewTeam();
    expect((await call("/api/v1/alerts", { method: "GET" })).json).toEqual({ from: "next" });
    expect((await call("/api/v1/alerts/other", { key, body: "{}" })).json).toEqual({ from: "next" });
    expect((await call("/api/v1/integrations/alertmanager", { key, body: "{}" })).json).toEqual({ from: "next" });
    expect(toNext.slice(before)).toEqual(["GET /api/v1/alerts", "POST /api/v1/alerts/other", "POST /api/v1/integrations/alertmanager"]);
  });
});
