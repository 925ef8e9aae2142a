import fs from "node:fs";
import path from "node:path";
import pg from "pg";

/** Applies prisma/migrations/*\/migration.sql in order, straight through pg (for throwaway databases). */
export async function applyMigrationsSql(databaseUrl: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const dir = path.resolve("prisma/migrations");
    for (const folder of fs.readdirSync(dir).filter((entry) => /^\d/.test(entry)).sort()) {
      await client.query(fs.readFileSync(path.join(dir, folder, "migration.sql"), "utf8"));
    }
  } finally {
    await client.end();
  }
}
