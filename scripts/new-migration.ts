// `npm run db:migration -- <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql
// from the difference between the schema at git HEAD and the working-tree schema.
// (`migrate dev` does not work with the JS engine; see TOOLCHAIN notes in the README.)
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, startEmbeddedPostgres } from "./lib/embedded-postgres";
import { schemaDiffSql } from "./lib/prisma-cli";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run db:migration -- <name_in_snake_case>");
  process.exit(2);
}

function schemaAtHead(): string | null {
  try {
    const text = execFileSync("git", ["show", "HEAD:prisma/schema.prisma"], { encoding: "utf8", stdio: "pipe" });
    const file = path.join(os.tmpdir(), `mon1tor-schema-head-${process.pid}.prisma`);
    fs.writeFileSync(file, text);
    return file;
  } catch {
    return null;
  }
}

// The CLI's JS engine needs a reachable database even to diff two files.
const scratch = await startEmbeddedPostgres({
  dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "mon1tor-migration-")),
  port: await freePort(),
  password: "scratch",
  throwaway: true,
});
try {
  const sql = await schemaDiffSql(scratch.url("postgres"), schemaAtHead());
  if (!sql.trim() || /^-- This is an empty migration\.\s*$/.test(sql.trim())) {
    console.log("prisma/schema.prisma matches HEAD: no migration written.");
  } else {
    const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
    const dir = path.join("prisma", "migrations", `${stamp}_${name}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "migration.sql"), sql);
    console.log(`wrote ${dir}/migration.sql`);
  }
} finally {
  await scratch.stop();
}
