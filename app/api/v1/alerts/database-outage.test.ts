// The database going away is a 503 with Retry-After, never a 500; what was accepted stays.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from "@/scripts/lib/embedded-postgres";
import { applyMigrationsSql } from "@/scripts/lib/migrations";

vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: () => {},
}));

let cluster: EmbeddedDatabase;
// Not a throwaway cluster: the test stops the server and starts it again on the same files.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "mon1tor-outage-"));
let POST: (request: Request) => Promise<Response>;
let key: string;
let teamId: string;

beforeAll(async () => {
  cluster = await startEmbeddedPostgres({ dataDir, port: await freePort(), password: "outage" });
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
});
