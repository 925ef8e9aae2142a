// The storm path's start-up warm-ups, run by instrumentation.ts: the group statement on each ingest
// connection (warmGroupStatement) and the API key lookup (warmKeyLookup). They must prepare
// without writing anything.
import { describe, expect, it } from "vitest";
import { fastIngest, warmGroupStatement } from "@/lib/alerts/fast-ingest";
import { authenticateApiKey, createApiKey, warmKeyLookup } from "@/lib/api-keys/keys";
import { db, ingestPool } from "@/lib/db";
import { limits } from "@/lib/rate-limit";
import { createActiveEndpoint, createMember, createTeam } from "@/lib/testing/factories";

describe("warming the group statement", () => {
  it("writes nothing (no transaction id is even assigned), and the connection then takes a real group", async () => {
    const client = await ingestPool().connect();
    try {
      await client.query("BEGIN");
      const result = await warmGroupStatement(client);
      expect(result.rows).toEqual([]);
      // Any write, a row lock included, assigns the transaction an id.
      const { rows } = await client.query<{ xid: string | null }>("SELECT pg_current_xact_id_if_assigned()::text AS xid");
      expect(rows[0]!.xid).toBeNull();
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
    const team = await createTeam();
    await createActiveEndpoint(team.id, "https://warm.example.com/hook");
    const accepted = await fastIngest(team, { title: "after the warm-up", severity: "info", status: "triggered" }, { limit: limits.alertApiPerKey(`warm-${team.id}`), idempotency: null });
    expect(accepted).toMatchObject({ kind: "accepted", deliveryIds: [expect.any(String)] });
  });
});

describe("warming the API key lookup", () => {
  it("touches no key, and keys are checked as before after it", async () => {
    const context = await createMember("owner");
    const { id, key } = await createApiKey(context, { name: "warm", permissions: ["alerts:send"] });
    await warmKeyLookup();
    expect((await db.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt).toBeNull();
    expect((await authenticateApiKey(`Bearer ${key}`)).id).toBe(id);
    expect((await db.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt).not.toBeNull();
  });
});
