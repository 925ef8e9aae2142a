// Named statements: one name per text, so a changed statement is prepared afresh on a pool
// whose connections prepared the old one (a dev server's hot reload keeps its pool).
import { describe, expect, it } from "vitest";
import { namedStatement, pool } from "@/lib/db";

describe("prepared statements", () => {
  it("names a statement by its text: the same text, the same name; a changed text, a new one", async () => {
    const first = namedStatement("SELECT $1::int + 1 AS n", [1]);
    const again = namedStatement("SELECT $1::int + 1 AS n", [2]);
    const changed = namedStatement("SELECT $1::int + 2 AS n", [3]);
    expect(again.name).toBe(first.name);
    expect(changed.name).not.toBe(first.name);
    // On one connection, as a pool reuses them: node-postgres refuses a new text under a used name.
    const client = await pool.connect();
    try {
      expect((await client.query<{ n: number }>(first)).rows[0]!.n).toBe(2);
      expect((await client.query<{ n: number }>(again)).rows[0]!.n).toBe(3);
      expect((await client.query<{ n: number }>(changed)).rows[0]!.n).toBe(5);
    } finally {
      client.release();
    }
  });
});
