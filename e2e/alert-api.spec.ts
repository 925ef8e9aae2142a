import { spawnSync } from "node:child_process";
import http from "node:http";
import type { Socket } from "node:net";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { createApiKey, ownerPage } from "./helpers";

let key: string;
let revokedKey: string;

test.beforeAll(async ({ browser }) => {
  const { page, context } = await ownerPage(browser, "api");
  key = await createApiKey(page, "live");
  revokedKey = await createApiKey(page, "old");
  await page.getByRole("row", { name: /old/ }).getByRole("button", { name: "Revoke" }).click();
  await page.getByRole("button", { name: "Revoke key" }).click();
  await expect(page.getByRole("row", { name: /old/ })).toContainText("Revoked");
  await context.close();
});

const post = (request: APIRequestContext, options: { key?: string | null; contentType?: string; body?: string; headers?: Record<string, string> }) =>
  request.post("/api/v1/alerts", {
    headers: {
      ...(options.key === null ? {} : { authorization: `Bearer ${options.key ?? key}` }),
      "content-type": options.contentType ?? "application/json",
      ...options.headers,
    },
    // A Buffer goes out byte for byte; a string would be JSON-encoded again.
    data: Buffer.from(options.body ?? JSON.stringify({ title: "Ping failed" })),
  });

async function expectError(response: Awaited<ReturnType<APIRequestContext["post"]>>, status: number, code: string) {
  expect(response.status()).toBe(status);
  const body = (await response.json()) as { error: { code: string; message: string; fields?: Record<string, string[]> } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  return body.error;
}

test("401 without a key, or with an unknown one; 403 for a revoked key", async ({ request }) => {
  await expectError(await post(request, { key: null }), 401, "unauthorized");
  await expectError(await post(request, { key: "mk_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" }), 401, "unauthorized");
  await expectError(await post(request, { key: "not-a-key" }), 401, "unauthorized");
  const revoked = await expectError(await post(request, { key: revokedKey }), 403, "forbidden");
  expect(revoked.message).toBe("This API key has been revoked.");
});

test("400 malformed JSON, 415 wrong content type, 413 too large, 422 naming the field", async ({ request }) => {
  await expectError(await post(request, { body: "{not json" }), 400, "bad_request");
  await expectError(await post(request, { contentType: "text/plain" }), 415, "unsupported_media_type");
  await expectError(await post(request, { body: JSON.stringify({ title: "x", message: "a".repeat(70_000) }) }), 413, "payload_too_large");
  const missing = await expectError(await post(request, { body: JSON.stringify({ severity: "critical" }) }), 422, "validation");
  expect(missing.message).toMatch(/^Invalid field 'title'/);
  expect(missing.fields).toHaveProperty("title");
  const severity = await expectError(await post(request, { body: JSON.stringify({ title: "x", severity: "apocalyptic" }) }), 422, "validation");
  expect(severity.fields).toHaveProperty("severity");
  const nested = await expectError(await post(request, { body: JSON.stringify({ title: "x", monitor: { id: "m" } }) }), 422, "validation");
  expect(nested.fields).toHaveProperty(["monitor.name"]);
});

test("202 with the alert id; a retried Idempotency-Key returns the first result", async ({ request }) => {
  const body = JSON.stringify({ title: "Checkout down", severity: "critical", status: "triggered", dedupKey: `checkout-${Date.now()}` });
  const headers = { "idempotency-key": `retry-${Date.now()}` };
  const first = await post(request, { body, headers });
  expect(first.status()).toBe(202);
  const accepted = await first.json();
  expect(accepted).toMatchObject({ id: expect.any(String), eventId: expect.stringMatching(/^evt_/), deliveriesQueued: 0, deduplicated: false });

  const again = await post(request, { body, headers });
  expect(again.status()).toBe(202);
  expect(again.headers()["idempotent-replayed"]).toBe("true");
  expect(await again.json()).toEqual(accepted);

  // The same key with another body is a client bug, and is refused.
  await expectError(await post(request, { body: JSON.stringify({ title: "Something else" }), headers }), 422, "validation");

  // Without the key, the same dedupKey while the alert is open adds nothing new.
  const duplicate = await post(request, { body });
  expect(await duplicate.json()).toMatchObject({ id: accepted.id, deliveriesQueued: 0, deduplicated: true });
});

test("the cron route wants the bearer secret, then drains due deliveries", async ({ request }) => {
  const denied = await request.get("/api/cron/dispatch");
  await expectError(denied, 401, "unauthorized");
  await expectError(await request.get("/api/cron/dispatch", { headers: { authorization: "Bearer wrong" } }), 401, "unauthorized");
  const ok = await request.get("/api/cron/dispatch", { headers: { authorization: `Bearer ${process.env.CRON_SECRET}` } });
  expect(ok.status()).toBe(200);
  expect(await ok.json()).toEqual({
    attempted: expect.any(Number),
    delivered: expect.any(Number),
    failed: expect.any(Number),
    housekeeping: {
      partitionsMade: expect.any(Number),
      daysDropped: expect.any(Number),
      daysKept: expect.any(Number),
      deliveriesPurged: expect.any(Number),
      eventsPurged: expect.any(Number),
      idempotencyKeysPurged: expect.any(Number),
      rateLimitsPurged: expect.any(Number),
      relaysDisconnected: expect.any(Number),
      relaysRemoved: expect.any(Number),
      deliveriesExpired: expect.any(Number),
      emailsSent: expect.any(Number),
      previousSecretsPurged: expect.any(Number),
      healthHoursPurged: expect.any(Number),
      revalidated: expect.any(Number),
    },
  });
});

test("a method a route does not serve answers a JSON 405 with Allow, and OPTIONS lists only what it serves", async ({ request }) => {
  for (const [method, path, allow, use] of [
    ["GET", "/api/v1/alerts", "POST, OPTIONS", "POST"],
    ["DELETE", "/api/v1/alerts", "POST, OPTIONS", "POST"],
    ["PUT", "/api/v1/openapi.json", "GET, HEAD, OPTIONS", "GET"],
    ["POST", "/api/cron/dispatch", "GET, HEAD, OPTIONS", "GET"],
  ] as const) {
    const response = await request.fetch(path, { method });
    expect(response.headers()["allow"]).toBe(allow);
    const error = await expectError(response, 405, "method_not_allowed");
    expect(error.message).toBe(`${method} is not supported here: use ${use}.`);
    const options = await request.fetch(path, { method: "OPTIONS" });
    expect([options.status(), options.headers()["allow"]]).toEqual([204, allow]);
  }
});

test("a path no API route handles answers a JSON 404 naming it, for any method", async ({ request }) => {
  for (const [method, path] of [["GET", "/api/v1/alert"], ["POST", "/api/v1/alerts/extra"], ["DELETE", "/api/v2/alerts"]] as const) {
    const response = await request.fetch(path, { method });
    expect(response.headers()["content-type"]).toContain("application/json");
    const error = await expectError(response, 404, "not_found");
    expect(error.message).toBe(`No API route at ${method} ${path}. The API is described at /api/v1/openapi.json.`);
  }
  // Real routes are still theirs.
  expect((await request.get("/api/v1/openapi.json")).status()).toBe(200);
  expect((await request.get("/api/auth/csrf")).status()).toBe(200);
});

// A client that keeps a connection open longer than Node's default 5 s (a load balancer, a
// Playwright request context) must be able to use it again: the server closes idle connections
// only after scripts/lib/next-start.ts's KEEP_ALIVE_TIMEOUT_MS. At 5 s, a POST sent as the server
// closed the connection came back ECONNRESET.
test("an idle keep-alive connection is still open for the next call after 6 s", async ({ baseURL }) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const call = () =>
    new Promise<{ status: number; reused: boolean; socket: Socket }>((resolve, reject) => {
      const request = http.get(`${baseURL}/api/health/live`, { agent }, (response) => {
        response.resume();
        response.on("end", () => resolve({ status: response.statusCode ?? 0, reused: request.reusedSocket, socket: request.socket! }));
      });
      request.on("error", reject);
    });
  const first = await call();
  expect([first.status, first.reused]).toEqual([200, false]);
  let closed = false;
  first.socket.once("close", () => (closed = true));
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  expect(closed).toBe(false);
  const second = await call();
  expect([second.status, second.reused, second.socket === first.socket]).toEqual([200, true, true]);
  agent.destroy();
});

test("the API keys page's curl commands, run as shown with a new key, send one alert and a batch", async ({ browser }) => {
  const { page, context } = await ownerPage(browser, "curl");
  const newKey = await createApiKey(page, "from the page");
  const run = async (label: string) => {
    const command = await page.getByLabel(label, { exact: true }).textContent();
    const result = spawnSync("sh", ["-c", command!], { env: { ...process.env, MON1TOR_API_KEY: newKey }, encoding: "utf8", timeout: 30_000 });
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
  const one = await run("One alert (curl)");
  expect(one).toMatchObject({ deduplicated: false, id: expect.stringMatching(/^alt_/) });
  // The batch's second item resolves the first command's alert, by its dedupKey.
  const batch = await run("A batch of alerts (curl)");
  expect(batch).toMatchObject({ accepted: 2, refused: 0, errors: false });
  expect((batch.results as { id: string }[])[1]!.id).toBe(one.id);
  await page.goto("/alerts");
  await expect(page.getByRole("link", { name: "CPU above 90% on web-1" })).toBeVisible();
  await context.close();
});
