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
  const pg = await startEmbeddedPostgres({ dataDir, port: await freePort(), password: "bench" });
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
