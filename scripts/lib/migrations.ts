import fs from "node:fs";
import path from "node:path";
import pg from "pg";

/** Applies prisma/migrations/*\/migration.sql in order, straight through pg (for throwaway databases). */
export async function applyMigrationsSql(databaseUrl: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  // A server that goes away fails the query in flight; the event itself must not end the process.
  client.on("error", () => {});
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
