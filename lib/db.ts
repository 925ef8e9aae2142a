import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@/lib/generated/prisma/client";

function createClient() {
  const adapter = new PrismaPg({ connectionString: process.env.DATABASE_URL, max: 10 });
  return new PrismaClient({ adapter });
}

const globalForDb = globalThis as unknown as { mon1torDb?: PrismaClient };

/** One client per process; dev hot reload would otherwise open a pool per edit. */
export const db: PrismaClient = (globalForDb.mon1torDb ??= createClient());

export type Db = PrismaClient;
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
