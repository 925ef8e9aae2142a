// Named statements: one name per text, so a changed statement is prepared afresh on a pool
// whose connections prepared the old one (a dev server's hot reload keeps its pool). Pools:
// opened at start, and kept open through a quiet spell.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createPool, DB_NOW, dbNow, namedStatement, pool, warmPool } from "@/lib/db";

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

describe("connection pools", () => {
  it("warmPool opens every connection the pool may have, and they are still open after a quiet spell", async () => {
    const warmed = createPool(process.env.DATABASE_URL, 3);
    try {
      await warmPool(warmed);
      expect({ total: warmed.totalCount, idle: warmed.idleCount }).toEqual({ total: 3, idle: 3 });
      // node-postgres's default closes a connection after 10 s idle.
      await new Promise((resolve) => setTimeout(resolve, 10_500));
      expect(warmed.totalCount).toBe(3);
    } finally {
      await warmed.end();
    }
  }, 20_000);

  it("a pool of generic plans has the setting on each connection's first query, sent before it rather than beside it", async () => {
    // node-postgres warns (and pg 9 will throw) when a query is sent while the client runs another.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    const generic = createPool(process.env.DATABASE_URL, 2, { genericPlans: true });
    try {
      const modes = await Promise.all([1, 2].map(() => generic.query<{ plan_cache_mode: string }>("SHOW plan_cache_mode")));
      expect(modes.map((result) => result.rows[0]!.plan_cache_mode)).toEqual(["force_generic_plan", "force_generic_plan"]);
      expect(generic.totalCount).toBe(2);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => message.includes("already executing a query"))).toEqual([]);
    } finally {
      process.off("warning", onWarning);
      await generic.end();
    }
  });

  it("warmPool never throws: with the database away it opens nothing and returns", async () => {
    const away = createPool("postgresql://nobody:nothing@127.0.0.1:1/none", 2);
    try {
      await warmPool(away);
      expect(away.totalCount).toBe(0);
    } finally {
      await away.end();
    }
  });
});

describe("database time", () => {
  it("DB_NOW and dbNow are PostgreSQL's clock in UTC, as the timestamp columns hold it; an explicit time wins", async () => {
    const { rows } = await pool.query<{ now: Date; given: Date; system: Date }>(
      `SELECT ${DB_NOW} AS now, ${dbNow(1)} AS given, ${dbNow(2)} AS system`,
      ["2030-01-02T03:04:05.000Z", null],
    );
    expect(rows[0]!.given.toISOString()).toBe("2030-01-02T03:04:05.000Z");
    expect(Math.abs(rows[0]!.now.getTime() - Date.now())).toBeLessThan(60_000);
    expect(Math.abs(rows[0]!.system.getTime() - rows[0]!.now.getTime())).toBeLessThan(1_000);
  });

  it("has one home: no other source writes PostgreSQL's clock out again", () => {
    const sources = execFileSync("git", ["ls-files", "lib/**/*.ts", "app/**/*.ts", "app/**/*.tsx"], { encoding: "utf8" })
      .split("\n")
      .filter((file) => file && !file.endsWith(".test.ts") && file !== "lib/db.ts" && !file.startsWith("lib/generated/"));
    const copies = sources.filter((file) => /now\(\)\s*(\)\s*)?AT TIME ZONE/i.test(fs.readFileSync(file, "utf8")));
    expect(copies).toEqual([]);
  });
});
