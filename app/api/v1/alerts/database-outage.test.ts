// The database going away, or having no session left to give, is a 503 with Retry-After, never a
// 500; what was accepted stays.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from "@/scripts/lib/embedded-postgres";
import { applyMigrationsSql } from "@/scripts/lib/migrations";

vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: () => {},
}));

const MAX_CONNECTIONS = 30;
let cluster: EmbeddedDatabase;
// Not a throwaway cluster: the test stops the server and starts it again on the same files.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "mon1tor-outage-"));
let POST: (request: Request) => Promise<Response>;
let key: string;
let teamId: string;

beforeAll(async () => {
  // Few sessions, none kept for superusers: the second test fills them all, as a busy shared server's other clients would.
  const flags = ["-c", `max_connections=${MAX_CONNECTIONS}`, "-c", "superuser_reserved_connections=0", "-c", "reserved_connections=0"];
  cluster = await startEmbeddedPostgres({ dataDir, port: await freePort(), password: "outage", flags });
  const url = await cluster.createDatabase("outage");
  await applyMigrationsSql(url);
  // This file's own database, which it may stop: the shared pool reads DATABASE_URL when first imported.
  process.env.DATABASE_URL = url;
  ({ POST } = await import("@/app/api/v1/alerts/route"));
  const { createMember } = await import("@/lib/testing/factories");
  const { createApiKey } = await import("@/lib/api-keys/keys");
  const owner = await createMember("owner");
  teamId = owner.team.id;
  key = (await createApiKey(owner, { name: "outage", permissions: ["alerts:send"] })).key;
}, 120_000);
afterAll(async () => {
  await cluster.stop().catch(() => {});
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const post = (i: number) =>
  POST(
    new Request("http://localhost/api/v1/alerts", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "idempotency-key": `outage-${i}` },
      body: JSON.stringify({ title: `alert ${i}` }),
    }),
  );

describe("database outage", () => {
  it("answers 503 with Retry-After while PostgreSQL is stopped mid-traffic, and keeps every accepted alert", async () => {
    const statuses: { i: number; status: number; retryAfter: string | null; code?: string }[] = [];
    let i = 0;
    const traffic = (async () => {
      const until = Date.now() + 6_000;
      while (Date.now() < until) {
        const n = i++;
        const response = await post(n);
        const body = (await response.json()) as { error?: { code: string } };
        statuses.push({ i: n, status: response.status, retryAfter: response.headers.get("retry-after"), code: body.error?.code });
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await cluster.stop();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await traffic;

    const during = statuses.filter((s) => s.status !== 202);
    expect(statuses.filter((s) => s.status === 202).length).toBeGreaterThan(0);
    expect(during.length).toBeGreaterThan(0);
    for (const refused of during) expect(refused).toMatchObject({ status: 503, retryAfter: "5", code: "unavailable" });

    // Back up: everything that got a 202 is there.
    await cluster.restart();
    const { db } = await import("@/lib/db");
    const accepted = statuses.filter((s) => s.status === 202).length;
    let stored = -1;
    for (let tries = 0; tries < 50 && stored < 0; tries++) {
      stored = await db.alert.count({ where: { teamId } }).catch(() => -1);
      if (stored < 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(stored).toBe(accepted);
  }, 60_000);

  it("answers 503 with Retry-After while PostgreSQL has no session left to give (too many clients), then accepts again", async () => {
    // A restart ends the app's pooled sessions; every slot is then taken before it can reconnect.
    await cluster.restart();
    const fillers: pg.Client[] = [];
    for (;;) {
      const client = new pg.Client({ connectionString: cluster.url("outage") });
      client.on("error", () => {});
      try {
        await client.connect();
      } catch (error) {
        expect((error as { code?: string }).code).toBe("53300");
        break;
      }
      fillers.push(client);
      expect(fillers.length).toBeLessThanOrEqual(MAX_CONNECTIONS);
    }
    try {
      for (let n = 0; n < 5; n++) {
        const response = await post(10_000 + n);
        expect({ status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.json() }).toMatchObject({
          status: 503,
          retryAfter: "5",
          body: { error: { code: "unavailable" } },
        });
      }
    } finally {
      await Promise.all(fillers.map((client) => client.end()));
    }
    // Sessions free again: the same call is accepted.
    let response = await post(10_000);
    for (let tries = 0; tries < 20 && response.status !== 202; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      response = await post(10_000);
    }
    expect(response.status).toBe(202);
  }, 60_000);
});
