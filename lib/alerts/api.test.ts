// The alert API's handler, called as Next calls it, on PostgreSQL.
import { describe, expect, it, vi } from "vitest";

vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: () => {},
}));
import { POST } from "@/app/api/v1/alerts/route";
import { createApiKey } from "@/lib/api-keys/keys";
import { db } from "@/lib/db";
import { createMember } from "@/lib/testing/factories";

async function keyForNewTeam() {
  const owner = await createMember("owner");
  return { owner, key: (await createApiKey(owner, "test")).key };
}

const post = (key: string, body: unknown) =>
  POST(
    new Request("http://localhost/api/v1/alerts", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );

describe("POST /api/v1/alerts", () => {
  it("refuses a NUL character with a 422 that names the field, and stores nothing", async () => {
    const { owner, key } = await keyForNewTeam();
    for (const [field, body] of [
      ["title", { title: "CPU\u0000high" }],
      ["message", { title: "CPU high", message: "a\u0000b" }],
      ["dedupKey", { title: "CPU high", dedupKey: "k\u0000" }],
      ["monitor.name", { title: "CPU high", monitor: { id: "m", name: "\u0000" } }],
    ] as const) {
      const response = await post(key, body);
      expect(response.status, field).toBe(422);
      const json = (await response.json()) as { error: { code: string; message: string; fields: Record<string, string[]> } };
      expect(json.error.code).toBe("validation");
      expect(json.error.message).toBe(`Invalid field '${field}': must not contain NUL (\\u0000) characters`);
      expect(Object.keys(json.error.fields)).toEqual([field]);
    }
    expect(await db.alert.count({ where: { teamId: owner.team.id } })).toBe(0);
  });

  it("concurrent triggers with one dedupKey open exactly one alert, enforced by the database", async () => {
    const { owner, key } = await keyForNewTeam();
    const responses = await Promise.all(Array.from({ length: 12 }, () => post(key, { title: "db-1 down", dedupKey: "db-1" })));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { id: string; deduplicated: boolean }[];
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(202));
    expect(bodies.filter((b) => !b.deduplicated)).toHaveLength(1);
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(await db.alert.count({ where: { teamId: owner.team.id, dedupKey: "db-1", status: "triggered" } })).toBe(1);
    expect(await db.event.count({ where: { teamId: owner.team.id } })).toBe(1);

    // Resolving closes it; the next trigger opens a new one.
    expect((await (await post(key, { title: "db-1 down", dedupKey: "db-1", status: "resolved" })).json()).id).toBe(bodies[0]!.id);
    const reopened = (await (await post(key, { title: "db-1 down again", dedupKey: "db-1" })).json()) as { id: string; deduplicated: boolean };
    expect(reopened.deduplicated).toBe(false);
    expect(reopened.id).not.toBe(bodies[0]!.id);
  });
});
