import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "@/lib/generated/prisma/client";

export function createPool(connectionString = process.env.DATABASE_URL, max = 10) {
  const pool = new pg.Pool({ connectionString, max });
  // An idle connection dropped by a database restart must not crash the process.
  pool.on("error", () => {});
  return pool;
}

export function createDbClient(connectionString = process.env.DATABASE_URL, max = 10) {
  return new PrismaClient({ adapter: new PrismaPg(createPool(connectionString, max)) });
}

const globalForDb = globalThis as unknown as { mon1torDb?: PrismaClient; mon1torPool?: pg.Pool };

/**
 * One pool per process, shared by both ways in. `db` (Prisma) is the data-access layer for
 * everything; `pool` is for the few measured hot paths that are plain SQL anyway (claiming
 * and recording deliveries, the alert API's one-statement ingest, the team health read),
 * where Prisma's per-query engine work was a third of the CPU.
 * Timestamps there go in and out as UTC text, never as JS Dates (see lib/webhooks/dispatch.ts).
 */
export const pool: pg.Pool = (globalForDb.mon1torPool ??= createPool());
/** One client per process; dev hot reload would otherwise open a pool per edit. */
export const db: PrismaClient = (globalForDb.mon1torDb ??= new PrismaClient({ adapter: new PrismaPg(pool) }));

export type Db = PrismaClient;
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
