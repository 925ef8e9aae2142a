// The benches' database: a fresh embedded PostgreSQL, migrated, with the environment the
// app's modules read set to it (import them only after this).
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, startEmbeddedPostgres } from "../scripts/lib/embedded-postgres";
import { applyMigrationsSql } from "../scripts/lib/migrations";

export async function startBenchDatabase(name: string) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `mon1tor-${name}-`));
  // BENCH_PG_STATS=1: record per-statement times (pg_stat_statements) to show where PostgreSQL's time goes.
  // BENCH_PG_EXPLAIN=<ms>: log the plan of every statement slower than that (auto_explain).
  const flags = [
    ...(process.env.BENCH_PG_STATS ? ["-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=all", "-c", "pg_stat_statements.track_planning=on"] : []),
    ...(process.env.BENCH_PG_EXPLAIN
      ? ["-c", "session_preload_libraries=auto_explain", "-c", `auto_explain.log_min_duration=${process.env.BENCH_PG_EXPLAIN}`, "-c", "auto_explain.log_analyze=on", "-c", "auto_explain.log_buffers=on"]
      : []),
  ];
  const log = process.env.BENCH_PG_EXPLAIN ? (line: string) => console.error(line) : undefined;
  const pg = await startEmbeddedPostgres({ dataDir, port: await freePort(), password: "bench", flags, log, throwaway: true });
  const databaseUrl = await pg.createDatabase("bench");
  await applyMigrationsSql(databaseUrl);
  Object.assign(process.env, {
    DATABASE_URL: databaseUrl,
    NEXTAUTH_SECRET: crypto.randomBytes(32).toString("base64"),
    CRON_SECRET: crypto.randomBytes(32).toString("base64url"),
    MON1TOR_ENCRYPTION_KEY: crypto.randomBytes(32).toString("base64"),
    MON1TOR_ALLOW_PRIVATE_URLS: "true",
    MON1TOR_ALLOW_HTTP_URLS: "true",
  });
  return { pg, databaseUrl };
}
