import crypto from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { databaseUrl } from "@/lib/env";
import { Prisma, PrismaClient } from "@/lib/generated/prisma/client";

/**
 * The database's clock, in UTC as the schema's `timestamp` columns hold it. Times that decide
 * who may do what (leases, windows, schedules) come from here, never from a process's clock,
 * so two machines whose clocks differ still agree.
 */
export const DB_NOW = "(now() AT TIME ZONE 'UTC')";
/** DB_NOW inside a Prisma tagged template (where a plain string would be sent as a parameter). */
export const DB_NOW_SQL = Prisma.raw(DB_NOW);
/** The time a statement runs at: the explicit one in parameter `$index` (tests), else DB_NOW. */
export const dbNow = (index: number) => `(COALESCE($${index}::timestamptz, now()) AT TIME ZONE 'UTC')`;

/**
 * `genericPlans`: named statements keep one generic plan per connection (plan_cache_mode), for a
 * statement whose parameters are arrays of varying length, which PostgreSQL otherwise plans afresh
 * on every call.
 */
export function createPool(connectionString = databaseUrl(), max = 10, { genericPlans = false } = {}) {
  const pool = new pg.Pool({
    connectionString,
    max,
    // Connections stay open once made. With node-postgres's default (closed after 10 s idle),
    // an alert storm after a quiet spell waited for new ones: the worst API call of its first
    // quarter second took 138-162 ms, against 22-49 with the connections kept (200 alerts/s
    // against `npm start`). TCP keep-alive holds them through NAT and firewalls; a script whose
    // work is done can still exit.
    idleTimeoutMillis: 0,
    keepAlive: true,
    allowExitOnIdle: true,
    // Run on each new connection before it is first handed out, and awaited: a query sent from the
    // 'connect' event instead ran beside the first caller's, which node-postgres deprecates (an
    // error in pg 9). Behind PgBouncer in transaction mode a session setting does not stick: the
    // statement is then planned per call, as before. A failure is the caller's to see, on its own
    // query.
    ...(genericPlans && {
      verify: (client: pg.PoolClient, done: (error?: Error) => void) => {
        client.query("SET plan_cache_mode = force_generic_plan").then(() => done(), () => done());
      },
    }),
  });
  // A connection dropped by a database restart, a failover or pg_terminate_backend() must not
  // crash the process. The pool's own listener covers idle connections only: a checked-out
  // client has none, and node-postgres emits 'error' on it when its server goes away, even
  // mid-query (the query's caller gets the error as well). Every client keeps a listener for
  // its whole life, so such an event is never unhandled; the pool drops the dead client when
  // it comes back.
  pool.on("error", () => {});
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  return pool;
}

/**
 * Opens every connection `pool` may have, at start, so the first alert storm does not wait for
 * them (each takes a TCP connect, SCRAM authentication and a new PostgreSQL backend). Never
 * throws: with the database away, requests answer 503 and connect when it is back.
 */
export async function warmPool(pool: pg.Pool): Promise<void> {
  const clients = await Promise.allSettled(Array.from({ length: pool.options.max }, () => pool.connect()));
  for (const client of clients) if (client.status === "fulfilled") client.value.release();
}

export function createDbClient(connectionString = databaseUrl(), max = 10) {
  return new PrismaClient({ adapter: new PrismaPg(createPool(connectionString, max)) });
}

/**
 * The dispatch worker's own pool, for claiming and recording deliveries. Its commits wait for
 * the WAL flush like every other: a claim is on disk before its request goes out, and a result
 * is on disk before the worker lets go of it, so a PostgreSQL crash (kill -9, power loss) sends
 * nothing twice. A claim or a recording batch carries hundreds of deliveries, so the flush costs
 * one fsync per batch: dispatch measured the same with it as without (9,877 and 9,911 against
 * 10,029 deliveries/s, `BENCH_ONLY=dispatch`), while the 4-minute soak's PostgreSQL kill -9 had
 * re-sent 253 deliveries whose results were committed without it.
 */
export const createDispatchPool = (connectionString = databaseUrl()) => createPool(connectionString, 10);

const globalForDb = globalThis as unknown as { mon1torDb?: PrismaClient; mon1torPool?: pg.Pool; mon1torIngestPool?: pg.Pool };

/**
 * One pool per process, shared by both ways in. `db` (Prisma) is the data-access layer for
 * everything; `pool` is for the few measured hot paths that are plain SQL anyway (claiming
 * and recording deliveries, the alert API's one-statement ingest, the team health read),
 * where Prisma's per-query engine work was a third of the CPU.
 * Timestamps there go in and out as UTC text, never as JS Dates (see lib/webhooks/delivery/dispatch.ts).
 * The alert API's ingest statement is named (server-side prepared, `namedStatement()` below):
 * PostgreSQL parses and plans it once per connection instead of on every call, which was half of
 * the ingest's PostgreSQL CPU (`npm run bench:statements`). So are the recording batch's endpoint
 * statements (failure policy, health rows), whose planning took longer than their run: they read
 * WebhookEndpoint by id, a table that grows slowly enough for autoanalyze, which replans them, to
 * keep up. A cached (generic) plan is made for the table sizes its statistics last recorded: the
 * statements that read Delivery and DeliveryAttempt, the claim's choice included, are not named,
 * because those tables swing from near empty to tens of thousands of rows within a minute, and
 * such plans then read them whole. The one exception, the claim's second statement, reaches every
 * row by key in a way no plan can turn into a scan (lib/webhooks/delivery/claim.ts). Behind
 * PgBouncer in transaction mode the named ones need PgBouncer 1.21 or later with
 * `max_prepared_statements` set (see docs/production.md).
 */
export const pool: pg.Pool = (globalForDb.mon1torPool ??= createPool());
/**
 * The alert API's group commit's own connections, one per group in flight
 * (lib/alerts/fast-ingest.ts). Its one statement takes each column of a group as an array, and
 * PostgreSQL planned it afresh on every call: 0.7 ms a call, a quarter of its time, at 400
 * alerts/s. Here it keeps one generic plan per connection.
 */
export const INGEST_CONNECTIONS = 4;
export const ingestPool = (): pg.Pool => (globalForDb.mon1torIngestPool ??= createPool(databaseUrl(), INGEST_CONNECTIONS, { genericPlans: true }));
/** One client per process; dev hot reload would otherwise open a pool per edit. */
export const db: PrismaClient = (globalForDb.mon1torDb ??= new PrismaClient({ adapter: new PrismaPg(pool) }));

const statementNames = new Map<string, string>();
/**
 * A named (server-side prepared) statement for `text` (see `pool` above). The name comes from the
 * text, so a changed statement is prepared afresh: with a fixed name, node-postgres refuses a new
 * text on a connection that prepared the old one (a dev server's hot reload keeps its pool).
 */
export function namedStatement(text: string, values: unknown[]): pg.QueryConfig {
  let name = statementNames.get(text);
  if (!name) {
    name = `mon1tor_${crypto.createHash("sha256").update(text).digest("hex").slice(0, 16)}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
}

export type Db = PrismaClient;
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/** Runs `work` in a transaction on its own client; a broken connection never goes back to the pool. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client has no listener of the pool's: without one, a server shutdown
  // between two statements would be an unhandled 'error' event and end the process.
  const onError = (error: Error) => (broken = error);
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    // Whatever went wrong, this connection is not trusted again.
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}
