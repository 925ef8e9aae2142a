// The committed migrations must build exactly the schema that schema.prisma describes.
import pg from "pg";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createPool } from "@/lib/db";
import { claimDeliveries } from "@/lib/webhooks/delivery/claim";
import { purgeHistory } from "@/lib/webhooks/delivery/retention";
import { schemaDiffSql } from "./lib/prisma-cli";
import { TEMPLATE_DATABASE } from "./lib/test-environment";

const adminUrl = process.env.TEST_PG_ADMIN_URL!;
const urlFor = (database: string) => {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
};

async function withClient<T>(database: string, fn: (client: pg.Client) => Promise<T>) {
  const client = new pg.Client({ connectionString: urlFor(database) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Objects that only the migrations create: Prisma 6 cannot express them in schema.prisma. */
const SQL_ONLY_INDEXES = ["Alert_open_dedupKey_key", "Delivery_unfinished_alert_idx", "Delivery_fresh_idx", "Delivery_retry_idx", "Delivery_queued_idx"];

/** Not the day partitions of the history tables: only their parents are what schema.prisma describes. */
const NOT_A_PARTITION = (column: string) =>
  `${column} NOT IN (SELECT c.relname::text FROM pg_class c WHERE c.relispartition AND c.relnamespace = 'public'::regnamespace)`;

/** Indexes on the same table with the same columns, expressions, predicate and operator classes. */
const DUPLICATE_INDEXES_SQL = `
  SELECT indrelid::regclass::text AS "table", array_agg(indexrelid::regclass::text ORDER BY indexrelid::regclass::text) AS indexes
  FROM pg_index JOIN pg_class c ON c.oid = indrelid
  WHERE c.relnamespace = 'public'::regnamespace
  GROUP BY indrelid, indkey::text, indclass::text, coalesce(pg_get_expr(indexprs, indrelid), ''), coalesce(pg_get_expr(indpred, indrelid), '')
  HAVING count(*) > 1`;

/** Tables, columns, types, defaults, constraints, indexes and enums: what drift would change. */
async function describeSchema(database: string) {
  return withClient(database, async (client) => {
    const q = async (sql: string) => (await client.query(sql)).rows.map((row) => JSON.stringify(row)).sort();
    return {
      columns: await q(`SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, character_maximum_length
                        FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
                        AND ${NOT_A_PARTITION("table_name")}`),
      constraints: await q(`SELECT conrelid::regclass::text AS table, conname, pg_get_constraintdef(oid) AS def
                            FROM pg_constraint WHERE connamespace = 'public'::regnamespace
                            AND conrelid::regclass::text <> '"_prisma_migrations"' AND conrelid::regclass::text <> '_prisma_migrations'
                            AND ${NOT_A_PARTITION("trim(both '\"' from conrelid::regclass::text)")}`),
      // A partitioned table's index is defined "ON ONLY" the parent; its partitions' are left out.
      indexes: await q(`SELECT tablename, indexname, replace(indexdef, ' ON ONLY ', ' ON ') AS indexdef FROM pg_indexes
                        WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' AND ${NOT_A_PARTITION("tablename")}
                        AND indexname <> ALL (ARRAY['${SQL_ONLY_INDEXES.join("','")}'])`),
      enums: await q(`SELECT t.typname, e.enumlabel, e.enumsortorder FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid`),
    };
  });
}

/**
 * The one deliberate difference (prisma/migrations/20261203220000_partitioned_history): the
 * partitioned history tables' primary keys hold their partition key, and the two foreign keys
 * into them are cascade triggers instead. Applied to what schema.prisma builds, everything else
 * must match exactly.
 */
function asPartitioned(schema: Awaited<ReturnType<typeof describeSchema>>) {
  const pkeys: Record<string, [string, string]> = {
    Event_pkey: ["PRIMARY KEY (id)", 'PRIMARY KEY (id, "createdAt")'],
    Delivery_pkey: ["PRIMARY KEY (id)", 'PRIMARY KEY (id, "createdAt")'],
    DeliveryAttempt_pkey: ['PRIMARY KEY ("deliveryId", number)', 'PRIMARY KEY ("deliveryId", number, "startedAt")'],
  };
  const indexes: Record<string, [string, string]> = {
    Event_pkey: ["(id)", '(id, "createdAt")'],
    Delivery_pkey: ["(id)", '(id, "createdAt")'],
    DeliveryAttempt_pkey: ['("deliveryId", number)', '("deliveryId", number, "startedAt")'],
  };
  const dropped = ["Delivery_eventId_fkey", "DeliveryAttempt_deliveryId_fkey"];
  const rewrite = (rows: string[], changes: Record<string, [string, string]>, field: "def" | "indexdef", name: "conname" | "indexname") =>
    rows
      .map((text) => JSON.parse(text) as Record<string, string>)
      .filter((row) => !dropped.includes(row[name]!))
      .map((row) => {
        const change = changes[row[name]!];
        return JSON.stringify(change ? { ...row, [field]: row[field]!.replace(change[0], change[1]) } : row);
      })
      .sort();
  return { ...schema, constraints: rewrite(schema.constraints, pkeys, "def", "conname"), indexes: rewrite(schema.indexes, indexes, "indexdef", "indexname") };
}

describe("migrations", () => {
  it("build the same schema as schema.prisma (no drift)", async () => {
    const fromSchema = `drift_${Date.now()}`;
    await withClient("postgres", (client) => client.query(`CREATE DATABASE "${fromSchema}"`));
    const sql = await schemaDiffSql(urlFor(fromSchema), null);
    await withClient(fromSchema, (client) => client.query(sql));

    const migrated = await describeSchema(TEMPLATE_DATABASE);
    const direct = asPartitioned(await describeSchema(fromSchema));
    expect(migrated.columns.length).toBeGreaterThan(10);
    expect(migrated).toEqual(direct);
  }, 120_000);

  it("partitions a database that already holds history: every row kept, the queue still claimed, old rows purged", async () => {
    const database = `premigration_${Date.now()}`;
    const PARTITIONING = "20261203220000_partitioned_history";
    await withClient("postgres", (client) => client.query(`CREATE DATABASE "${database}"`));
    const dir = path.resolve("prisma/migrations");
    const folders = fs.readdirSync(dir).filter((entry) => /^\d/.test(entry)).sort();
    const apply = (client: pg.Client, list: string[]) =>
      list.reduce((done, folder) => done.then(() => client.query(fs.readFileSync(path.join(dir, folder, "migration.sql"), "utf8"))), Promise.resolve() as Promise<unknown>);
    await withClient(database, async (client) => {
      await apply(client, folders.filter((folder) => folder < PARTITIONING));
      // History as the unpartitioned tables held it: an old finished delivery, a recent one, one still queued.
      await client.query(`INSERT INTO "Team" (id, name, "updatedAt") VALUES ('t1', 'Team', now())`);
      await client.query(
        `INSERT INTO "WebhookEndpoint" (id, "teamId", url, status, "secretCiphertext", "updatedAt") VALUES ('e1', 't1', 'https://example.com/hook', 'active', 'x', now())`,
      );
      await client.query(
        `INSERT INTO "Event" (id, "teamId", type, body, "createdAt") VALUES
           ('evt_old', 't1', 'alert.triggered', '{"old":true}', now() - interval '40 days'),
           ('evt_new', 't1', 'alert.triggered', '{"new":true}', now() - interval '1 hour')`,
      );
      await client.query(
        `INSERT INTO "Delivery" (id, "teamId", "endpointId", "eventId", status, attempts, "nextAttemptAt", "createdAt", "updatedAt") VALUES
           ('msg_old', 't1', 'e1', 'evt_old', 'delivered', 1, NULL, now() - interval '40 days', now()),
           ('msg_done', 't1', 'e1', 'evt_new', 'delivered', 1, NULL, now() - interval '1 hour', now()),
           -- queued, dated after its event (a replay before partitioning dated its delivery now)
           ('msg_queued', 't1', 'e1', 'evt_old', 'retrying', 1, now() - interval '1 minute', now() - interval '1 minute', now())`,
      );
      await client.query(
        `INSERT INTO "DeliveryAttempt" ("deliveryId", number, "startedAt", "durationMs", "statusCode") VALUES
           ('msg_old', 1, now() - interval '40 days', 5, 200), ('msg_done', 1, now() - interval '1 hour', 5, 200), ('msg_queued', 1, now() - interval '2 minutes', 5, 500)`,
      );
      await apply(client, folders.filter((folder) => folder >= PARTITIONING));
      const placed = await client.query(
        `SELECT tableoid::regclass::text AS partition, count(*)::int AS n FROM "Delivery" GROUP BY 1
         UNION ALL SELECT tableoid::regclass::text, count(*)::int FROM "Event" GROUP BY 1
         UNION ALL SELECT tableoid::regclass::text, count(*)::int FROM "DeliveryAttempt" GROUP BY 1 ORDER BY 1`,
      );
      expect((await client.query(DUPLICATE_INDEXES_SQL)).rows).toEqual([]);
      expect(placed.rows).toEqual([
        { partition: '"DeliveryAttempt_legacy"', n: 3 },
        { partition: '"Delivery_legacy"', n: 3 },
        { partition: '"Event_legacy"', n: 2 },
      ]);
    });
    const pool = createPool(urlFor(database), 2);
    try {
      // The queued delivery is claimed with its event's body, though they are on different days.
      const claimed = await claimDeliveries(pool, { now: null, limit: 10, leaseMs: 60_000, inFlight: new Map(), perEndpoint: 10 });
      expect(claimed.deliveries.map((d) => [d.id, d.body.toString()])).toEqual([["msg_queued", '{"old":true}']]);
      // Retention deletes the pre-partitioning history row by row, attempts with it (the cascade
      // trigger), and keeps the event a queued delivery still needs.
      const purged = await purgeHistory(pool, 30);
      expect(purged).toMatchObject({ deliveries: 1, events: 0 });
      const left = await pool.query(`SELECT (SELECT array_agg(id ORDER BY id) FROM "Delivery") AS d, (SELECT array_agg("deliveryId" ORDER BY "deliveryId") FROM "DeliveryAttempt") AS a, (SELECT array_agg(id ORDER BY id) FROM "Event") AS e`);
      expect(left.rows[0]).toEqual({ d: ["msg_done", "msg_queued"], a: ["msg_done", "msg_queued"], e: ["evt_new", "evt_old"] });
      // New rows go to the days' own partitions.
      const tomorrow = await pool.query(
        `INSERT INTO "Event" (id, "teamId", type, body, "createdAt") VALUES ('evt_next', 't1', 'alert.triggered', '{}', date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day 1 hour')
         RETURNING tableoid::regclass::text AS partition`,
      );
      expect(tomorrow.rows[0].partition).toMatch(/^"Event_p\d{8}"$/);
    } finally {
      await pool.end();
    }
  }, 120_000);

  it("leave no table, partition or not, with two indexes on the same key", async () => {
    // Each costs every row written an entry; the pre-partitioning history had two unique ones.
    const twins = await withClient(TEMPLATE_DATABASE, async (client) => (await client.query(DUPLICATE_INDEXES_SQL)).rows);
    expect(twins).toEqual([]);
  });

  it("create the partial indexes schema.prisma cannot express", async () => {
    const rows = await withClient(TEMPLATE_DATABASE, async (client) =>
      (await client.query(`SELECT indexdef FROM pg_indexes WHERE indexname = ANY($1)`, [SQL_ONLY_INDEXES])).rows,
    );
    expect(rows).toHaveLength(SQL_ONLY_INDEXES.length);
    expect(rows.map((row) => row.indexdef).join("\n")).toMatch(/UNIQUE INDEX .* WHERE .*triggered/);
  });

  it("has a lock file and one migration.sql per folder", () => {
    const dir = path.resolve("prisma/migrations");
    expect(fs.readFileSync(path.join(dir, "migration_lock.toml"), "utf8")).toContain('provider = "postgresql"');
    const folders = fs.readdirSync(dir).filter((entry) => fs.statSync(path.join(dir, entry)).isDirectory());
    expect(folders.length).toBeGreaterThan(0);
    for (const folder of folders) expect(fs.existsSync(path.join(dir, folder, "migration.sql"))).toBe(true);
  });
});
