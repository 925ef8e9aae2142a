// Each test file gets its own database, cloned from the migrated template, so files can
// run in parallel without seeing each other's rows (or each other's due deliveries).
import crypto from "node:crypto";
import pg from "pg";
import { afterAll } from "vitest";
import { TEMPLATE_DATABASE } from "@/scripts/lib/test-environment";

const adminUrl = process.env.TEST_PG_ADMIN_URL;
if (!adminUrl) throw new Error("Run the tests with `npm test` (it starts the test database).");

const name = `vt_${crypto.randomBytes(6).toString("hex")}`;
await adminQuery(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DATABASE}"`);

const url = new URL(adminUrl);
url.pathname = `/${name}`;
process.env.DATABASE_URL = url.toString();

// Dropped once the file is done (this hook runs after the file's own): kept, the run's 54
// databases and the WAL that copied them came to 1.1 GB, and a CI machine with little disk
// left failed with "No space left on device". FORCE ends the pools' idle sessions.
afterAll(() => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));

async function adminQuery(sql: string) {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}
