// `npm run bench:partition-migration`: how long the partitioning migration
// (prisma/migrations/20261203220000_partitioned_history) takes on a database that already holds
// history: BENCH_MIGRATION_DELIVERIES (1,000,000) finished deliveries over 30 days, with their
// attempts and events, loaded with generate_series into the unpartitioned tables, then migrated.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort, startEmbeddedPostgres } from "../scripts/lib/embedded-postgres";

const DELIVERIES = Number(process.env.BENCH_MIGRATION_DELIVERIES ?? 1_000_000);
const PARTITIONING = "20261203220000_partitioned_history";

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "mon1tor-bench-migration-"));
  const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), password: "bench", throwaway: true });
  const client = new pg.Client({ connectionString: await server.createDatabase("bench") });
  await client.connect();
  try {
    const dir = path.resolve("prisma/migrations");
    const folders = fs.readdirSync(dir).filter((entry) => /^\d/.test(entry)).sort();
    const apply = async (list: string[]) => {
      for (const folder of list) await client.query(fs.readFileSync(path.join(dir, folder, "migration.sql"), "utf8"));
    };
    await apply(folders.filter((folder) => folder < PARTITIONING));
    await client.query(`INSERT INTO "Team" (id, name, "updatedAt") VALUES ('t1', 'Team', now())`);
    await client.query(
      `INSERT INTO "WebhookEndpoint" (id, "teamId", url, status, "secretCiphertext", "updatedAt")
       SELECT 'e' || g, 't1', 'https://example.com/' || g, 'active', 'x', now() FROM generate_series(0, 9) g`,
    );
    const loading = performance.now();
    await client.query(
      `INSERT INTO "Event" (id, "teamId", type, body, "createdAt")
       SELECT 'evt_' || g, 't1', 'alert.triggered', repeat('x', 600), now() - (g::double precision / $1) * interval '30 days'
       FROM generate_series(0, $1::int - 1) g`,
      [DELIVERIES / 10],
    );
    await client.query(
      `INSERT INTO "Delivery" (id, "teamId", "endpointId", "eventId", status, attempts, "createdAt", "updatedAt", "deliveredAt", "lastStatusCode")
       SELECT 'msg_' || substr(ev.id, 5) || '_' || n, 't1', 'e' || n, ev.id, 'delivered', 1, ev."createdAt", ev."createdAt", ev."createdAt", 200
       FROM "Event" ev CROSS JOIN generate_series(0, 9) n`,
    );
    await client.query(
      `INSERT INTO "DeliveryAttempt" ("deliveryId", number, "startedAt", "durationMs", "statusCode") SELECT id, 1, "createdAt", 20, 200 FROM "Delivery"`,
    );
    await client.query("VACUUM ANALYZE");
    console.log(`loaded ${DELIVERIES.toLocaleString("en")} deliveries, their attempts and ${(DELIVERIES / 10).toLocaleString("en")} events in ${((performance.now() - loading) / 1000).toFixed(0)} s`);
    const started = performance.now();
    await apply(folders.filter((folder) => folder >= PARTITIONING));
    const seconds = (performance.now() - started) / 1000;
    console.log(`the partitioning migration took ${seconds.toFixed(1)} s: ${(seconds / (DELIVERIES / 1e6)).toFixed(1)} s per million deliveries (with their attempts and events)`);
  } finally {
    await client.end();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
