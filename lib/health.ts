// Health for load balancers and orchestrators. Live: the process is up and answering. Ready: it
// can do its work, meaning PostgreSQL answers and every migration this build ships is applied
// (a deploy that skipped `prisma migrate deploy` is not ready). The web server answers at
// /api/health/{live,ready}, each worker the same paths on its metrics port.
import fs from "node:fs";
import path from "node:path";
import type pg from "pg";
import { pool as defaultPool } from "@/lib/db";

export type Readiness = { ready: boolean; database: string; migrations: string };

const CHECK_TIMEOUT_MS = 2_000;
/** Probes come every few seconds from every balancer: one check a second is shared. */
const CACHE_MS = 1_000;

/** The migrations this build ships (prisma/migrations), or null when they are not on disk. */
function shippedMigrations(): string[] | null {
  try {
    const dir = path.join(process.cwd(), "prisma", "migrations");
    return fs.readdirSync(dir).filter((entry) => /^\d/.test(entry)).sort();
  } catch {
    return null;
  }
}

async function check(pool: pg.Pool): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS)));
  try {
    const { rows } = await Promise.race([
      pool.query<{ name: string; applied: boolean }>(
        `SELECT migration_name AS name, finished_at IS NOT NULL AND rolled_back_at IS NULL AS applied FROM _prisma_migrations`,
      ),
      timeout,
    ]);
    const applied = new Set(rows.filter((row) => row.applied).map((row) => row.name));
    const failed = rows.filter((row) => !row.applied && !applied.has(row.name)).map((row) => row.name);
    const missing = (shippedMigrations() ?? []).filter((name) => !applied.has(name));
    if (failed.length > 0) return { ready: false, database: "ok", migrations: `failed: ${failed.join(", ")}` };
    if (missing.length > 0) return { ready: false, database: "ok", migrations: `not applied: ${missing.join(", ")} (run npm run db:migrate)` };
    return { ready: true, database: "ok", migrations: "ok" };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "42P01") return { ready: false, database: "ok", migrations: "none applied (run npm run db:migrate)" };
    // Public: no host, port or server message in the answer.
    return { ready: false, database: "unreachable", migrations: "unknown" };
  } finally {
    clearTimeout(timer);
  }
}

let cached: { at: number; value: Promise<Readiness> } | null = null;
export function readiness(pool: pg.Pool = defaultPool): Promise<Readiness> {
  if (!cached || Date.now() - cached.at >= CACHE_MS) cached = { at: Date.now(), value: check(pool) };
  return cached.value;
}

/** The answers both servers give, as status and JSON body. */
export async function healthAnswer(kind: "live" | "ready", pool?: pg.Pool): Promise<{ status: number; body: Record<string, unknown> }> {
  if (kind === "live") return { status: 200, body: { status: "ok" } };
  const result = await readiness(pool);
  return { status: result.ready ? 200 : 503, body: { status: result.ready ? "ok" : "unavailable", database: result.database, migrations: result.migrations } };
}
