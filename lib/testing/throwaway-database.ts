// A PostgreSQL cluster of a test's own, migrated, for tests that restart or crash the server.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDbClient } from "@/lib/db";
import { freePort, startEmbeddedPostgres } from "@/scripts/lib/embedded-postgres";
import { applyMigrationsSql } from "@/scripts/lib/migrations";

export async function startThrowawayDatabase(name: string) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `mon1tor-${name}-`));
  const cluster = await startEmbeddedPostgres({ dataDir, port: await freePort(), password: name, throwaway: true });
  const url = await cluster.createDatabase(name);
  await applyMigrationsSql(url);
  return { cluster, url, client: createDbClient(url) };
}
