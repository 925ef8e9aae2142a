// Every route, fuzzed over real HTTP (fast-check): random bytes, random JSON, huge strings,
// deep nesting, wrong types and wrong content types, with and without a valid API key.
// Nothing may answer 500, and a refused alert leaves no row behind.
import { expect, test } from "@playwright/test";
import fc from "fast-check";
import pg from "pg";
import { createApiKey, ownerPage } from "./helpers";

const ROUTES = ["/api/v1/alerts", "/api/v1/alerts/batch", "/api/v1/integrations/alertmanager", "/api/cron/dispatch", "/api/v1/openapi.json", "/api/v1/nothing-here", "/api/auth/callback/credentials", "/api/auth/session"];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

const deepJson = fc.integer({ min: 1, max: 20_000 }).map((depth) => "[".repeat(depth) + "]".repeat(depth));
const body = fc.oneof(
  fc.uint8Array({ maxLength: 2_000 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue().map((json) => JSON.stringify(json) ?? "null"),
  fc.record({ title: fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.integer(), fc.constant(null)), severity: fc.string(), status: fc.string() }).map((v) => JSON.stringify(v)),
  fc.constantFrom('{"title":"\\u0000"}', '{"title":"\\ud800"}', '{"title":"x","labels":{"a":"\\ud800"}}', `{"title":"${"a".repeat(70_000)}"}`, "a".repeat(2 * 1024 * 1024)),
  deepJson,
);
const contentType = fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "");

test("no route answers 500 to random input, and refused alerts write nothing", async ({ browser, baseURL }) => {
  test.setTimeout(240_000);
  const { page, context } = await ownerPage(browser, "fuzz");
  const key = await createApiKey(page);
  await context.close();
  const database = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await database.connect();
  const alertCount = async () =>
    Number((await database.query<{ n: string }>(`SELECT count(*) AS n FROM "Alert" a JOIN "ApiKey" k ON k."teamId" = a."teamId" WHERE k.prefix = $1`, [key.slice(3, 15)])).rows[0]!.n);
  try {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), fc.constantFrom(...METHODS), body, contentType, fc.boolean(), async (route, method, payload, type, withKey) => {
        const before = await alertCount();
        const headers: Record<string, string> = type ? { "content-type": type } : {};
        if (withKey) headers.authorization = `Bearer ${key}`;
        const response = await fetch(`${baseURL}${route}`, { method, headers, body: method === "GET" || method === "OPTIONS" ? undefined : payload });
        const text = await response.text();
        expect(response.status, `${method} ${route} (${type}) answered ${response.status}: ${text.slice(0, 300)}`).toBeLessThan(500);
        // A refused call stores nothing (the batch routes answer per item, and may store the good ones).
        if (route === "/api/v1/alerts" && response.status !== 202) expect(await alertCount()).toBe(before);
        if (route !== "/api/v1/alerts" && response.status >= 400 && response.status !== 503) expect(await alertCount()).toBe(before);
      }),
      { numRuns: 250 },
    );
  } finally {
    await database.end();
  }
});

// Seeds the fuzz found, kept as they were found.
test("regressions: next-auth's 500s on a GET of the credentials callback and on a POST declared JSON that is not", async ({ baseURL }) => {
  const get = await fetch(`${baseURL}/api/auth/callback/credentials`);
  expect(get.status).toBe(405);
  expect(get.headers.get("allow")).toContain("POST");
  const post = await fetch(`${baseURL}/api/auth/session`, { method: "POST", headers: { "content-type": "application/json" }, body: "a".repeat(2 * 1024 * 1024) });
  expect(post.status).toBe(400);
  expect(((await post.json()) as { error: { message: string } }).error.message).toBe("The request body is not valid JSON.");
});
