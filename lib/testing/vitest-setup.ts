// Each test file gets its own database, cloned from the migrated template, so files can
// run in parallel without seeing each other's rows (or each other's due deliveries).
import crypto from "node:crypto";
import pg from "pg";
import { TEMPLATE_DATABASE } from "@/scripts/lib/test-environment";

const adminUrl = process.env.TEST_PG_ADMIN_URL;
if (!adminUrl) throw new Error("Run the tests with `npm test` (it starts the test database).");

const name = `vt_${crypto.randomBytes(6).toString("hex")}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DATABASE}"`);
await admin.end();

const url = new URL(adminUrl);
url.pathname = `/${name}`;
process.env.DATABASE_URL = url.toString();
