import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@/lib/generated/prisma/client";

export function createDbClient(connectionString = process.env.DATABASE_URL, max = 10) {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max }) });
}

const globalForDb = globalThis as unknown as { mon1torDb?: PrismaClient };

/** One client per process; dev hot reload would otherwise open a pool per edit. */
export const db: PrismaClient = (globalForDb.mon1torDb ??= createDbClient());

export type Db = PrismaClient;
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
