import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Runs the Prisma CLI (JS engine, see prisma.config.ts) and returns its stdout. */
export async function prisma(args: string[], databaseUrl: string): Promise<string> {
  const { stdout } = await execFileAsync(path.resolve("node_modules/.bin/prisma"), args, {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** SQL that turns the `from` schema (or nothing) into prisma/schema.prisma. */
export function schemaDiffSql(databaseUrl: string, from: string | null) {
  return prisma(
    [
      "migrate",
      "diff",
      ...(from ? ["--from-schema-datamodel", from] : ["--from-empty"]),
      "--to-schema-datamodel",
      "prisma/schema.prisma",
      "--script",
    ],
    databaseUrl,
  );
}
