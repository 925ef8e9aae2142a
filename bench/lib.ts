// What every phase of `npm run bench` (bench/run.ts, bench/phases/) shares: the sizes, the
// printing, the child processes and their messages, the CPU split, and the context a run
// builds once (its database, the receiver, the helpers that make endpoints and queue alerts).
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { cpuSeconds } from "./cpu";
import { startBenchDatabase } from "./database";

export const only = new Set((process.env.BENCH_ONLY ?? "isolation,raw,dispatch,metrics,naive,rematch,pgboss,scaleout,ingest,latency,overload,batch").split(","));
export const RAW_TOTAL = Number(process.env.BENCH_RAW_REQUESTS ?? 100_000);
export const ALERTS = Number(process.env.BENCH_ALERTS ?? 2000);
export const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 10);
export const LATENCY_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 200);
export const LATENCY_HIGH_RATE = Number(process.env.BENCH_LATENCY_HIGH_RATE ?? 400);
export const TOTAL = ALERTS * ENDPOINTS;
/**
 * Alerts each dispatcher (ours, the naive loop, pg-boss) drains once in its own process, untimed,
 * before its timed drain of ALERTS: a worker runs for days, and the bench measures it warm. Started
 * cold, a 2 s drain spent about a quarter of our worker's CPU compiling (V8's optimizing compiler,
 * `perf` by symbol, 2026-12-05) against a few percent in the naive loop's, whose hot code is small.
 */
export const WARM_ALERTS = Number(process.env.BENCH_WARM_ALERTS ?? ALERTS);
export const CONCURRENCY = 512;
export const say = (line: string) => console.log(line);
export const rate = (count: number, ms: number) => (count / ms) * 1000;
export const fmt = (n: number, digits = 0) => n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Where the CPU went while `work` ran: per delivery (or what `count` counts), in µs, for each named process group. */
export async function cpuSplit<T>(
  groups: Record<string, () => number[]>,
  count: number | ((value: T) => number),
  work: () => Promise<T>,
): Promise<{ value: T; perUnitUs: Record<string, number>; line: string }> {
  const before = Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, cpuSeconds(pids())]));
  const value = await work();
  const units = typeof count === "number" ? count : count(value);
  const perUnitUs = Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, (Math.max(0, cpuSeconds(pids()) - before[name]!) / units) * 1e6]));
  const parts = Object.entries(perUnitUs).map(([name, us]) => `${name} ${fmt(us)} µs`);
  return { value, perUnitUs, line: `    CPU per delivery: ${parts.join(", ")}` };
}

export type ReceiverStats = { received: number; invalid: number; duplicates: number; byPrefix: Record<string, { count: number; first: number; last: number }>; arrivals: [string, number][] };

export function child(file: string, env: Record<string, string> = {}): ChildProcess {
  const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  return fork(path.resolve(file), [], { execArgv: [...(file.endsWith(".ts") ? ["--import", "tsx"] : []), ...profile], env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

/** The dispatch worker runs bundled on plain node, as `npm run build` ships it to production. */
export function bundleWorker(): string {
  const out = path.resolve(".data/bench/dispatch-worker.mjs");
  execFileSync("node_modules/.bin/esbuild", ["bench/dispatch-worker.ts", "--bundle", "--platform=node", "--format=esm", "--packages=external", "--target=node20", `--outfile=${out}`, "--log-level=warning"]);
  return out;
}

export function ask<T>(proc: ChildProcess, message: unknown, key: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (reply: Record<string, unknown>) => {
      if (key in reply) {
        proc.off("message", listener);
        resolve(reply as T);
      }
    };
    proc.on("message", listener);
    if (message !== undefined) proc.send(message as string);
  });
}

/**
 * A backlog of new alerts for `team`, through the alert API's storm path (fastIngest, groups of
 * 100): EventQueue rows with MON1TOR_EVENT_QUEUE on (the default), else a queued row per delivery,
 * exactly as a storm leaves them. Returns how long it took (ms). Only once the bench's database is up.
 */
export async function enqueue(team: { id: string; name: string }, alerts: number) {
  const { fastIngest } = await import("../lib/alerts/fast-ingest");
  const { env } = await import("../lib/env");
  const started = performance.now();
  const limit = { key: `bench:${team.id}`, limit: 1e9, windowSeconds: 60, shards: 4 };
  const eventQueue = env().MON1TOR_EVENT_QUEUE;
  for (let done = 0; done < alerts; done += 100) {
    const results = await Promise.all(
      Array.from({ length: Math.min(100, alerts - done) }, (_, i) =>
        fastIngest(team, { title: `bench ${done + i}`, severity: "warning", status: "triggered" }, { limit, idempotency: null, eventQueue }),
      ),
    );
    if (results.some((r) => r.kind !== "accepted")) throw new Error("enqueue: an alert was not accepted");
  }
  return performance.now() - started;
}

/**
 * What every peer (the raw loop, the naive loop, pg-boss) sends: the body our storm path makes for
 * one of the bench's alerts (fastIngest's groupItem: the same envelope, the same size, ~450 bytes),
 * so that each dispatcher signs and sends, and the receiver checks, the same bytes per delivery as
 * ours. Until 2026-12-05 they sent a 90-byte stand-in, and the receiver spent less on each of theirs.
 */
export async function peerBody(): Promise<string> {
  const { groupItem } = await import("../lib/alerts/fast-ingest");
  const team = { id: "cmibench0peer0body0000000", name: "peer" };
  const limit = { key: "bench:peer", limit: 1e9, windowSeconds: 60, shards: 4 };
  return groupItem(team, { title: "bench 1000", severity: "warning", status: "triggered" }, { limit, idempotency: null }).body;
}

/** One run's database, receiver and helpers; made once by bench/run.ts, handed to every phase. */
export type BenchContext = Awaited<ReturnType<typeof createContext>>;

export async function createContext() {
  const { pg } = await startBenchDatabase("bench");
  const { db } = await import("../lib/db");
  const { createActiveEndpoint } = await import("../lib/testing/factories");
  const { deliveryHeaders } = await import("../lib/webhooks/delivery/sign");

  const workerFile = bundleWorker();
  const receiver = child("bench/receiver.ts");
  const { port } = await ask<{ port: number }>(receiver, undefined, "port");
  const base = `http://127.0.0.1:${port}`;
  const stats = () => ask<{ stats: ReceiverStats }>(receiver, "stats", "stats").then((r) => r.stats);
  const reset = () => ask(receiver, "reset", "reset");
  const results: Record<string, number> = {};
  /** What bench/results/latest.json gets, beside the plain numbers. */
  const report: Record<string, unknown> = {};
  const cleanup: (() => Promise<unknown>)[] = [];
  /**
   * Before a timed phase: vacuum, analyse and checkpoint, so the work earlier phases left for
   * autovacuum and the checkpointer does not land inside this one's measurement (it had pushed
   * the latency phase's p50 from 30 ms to over 600 ms in a full run).
   */
  /** With BENCH_PG_STATS=1: the statements that took PostgreSQL's time since the last call. */
  const printStatementStats = async () => {
    if (!process.env.BENCH_PG_STATS) return;
    await db.$executeRawUnsafe("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    const top = await db.$queryRawUnsafe<{ ms: number; plan: number; plans: number; calls: number; longest: number; query: string }[]>(
      `SELECT round(total_exec_time)::int AS ms, round(total_plan_time)::int AS plan, plans::int, calls::int, round(max_exec_time)::int AS longest,
              left(regexp_replace(query, '\\s+', ' ', 'g'), 80) AS query
       FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 12`,
    );
    say("      executing  planning (plans)    calls  longest  statement");
    for (const row of top) say(`      ${String(row.ms).padStart(6)} ms ${String(row.plan).padStart(6)} ms (${String(row.plans).padStart(6)}) ${String(row.calls).padStart(6)} ${String(row.longest).padStart(5)} ms  ${row.query}`);
    await db.$executeRawUnsafe("SELECT pg_stat_statements_reset()");
    // What was written to the WAL meanwhile: every synchronous commit waits for it to be flushed.
    const [wal] = await db.$queryRawUnsafe<{ bytes: number; records: number; fpi: number; syncs: number }[]>(
      `SELECT wal_bytes::float8 AS bytes, wal_records::float8 AS records, wal_fpi::float8 AS fpi, wal_sync::float8 AS syncs FROM pg_stat_wal`,
    );
    say(`      WAL: ${fmt(wal!.bytes / 1e6, 1)} MB in ${fmt(wal!.records)} records, ${fmt(wal!.fpi)} of them full-page images; ${fmt(wal!.syncs)} syncs`);
    await db.$executeRawUnsafe("SELECT pg_stat_reset_shared('wal')");
  };
  /** BENCH_PG_STATS: what PostgreSQL's busy sessions were waiting for, sampled every 50 ms while `work` ran. */
  const sampleWaits = async <T,>(work: () => Promise<T>): Promise<T> => {
    if (!process.env.BENCH_PG_STATS) return work();
    const counts = new Map<string, number>();
    let samples = 0;
    const timer = setInterval(() => {
      void db.$queryRawUnsafe<{ what: string; n: number }[]>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU') || '  ' || left(regexp_replace(query, '\s+', ' ', 'g'), 40) AS what, count(*)::int AS n
         FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend' GROUP BY 1`,
      ).then((rows) => {
        samples += 1;
        for (const row of rows) counts.set(row.what, (counts.get(row.what) ?? 0) + row.n);
      }, () => {});
    }, 50);
    try {
      return await work();
    } finally {
      clearInterval(timer);
      say(`    busy PostgreSQL sessions, average over ${samples} samples:`);
      for (const [what, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 8)) say(`      ${fmt(n / Math.max(1, samples), 2).padStart(6)}  ${what}`);
    }
  };
  const settle = async (tables: string[] = []) => {
    // Only the tables the phase reads: statistics taken of a still-empty Delivery table made the
    // foreign-key checks' cached plans sequential scans for as long as a later phase ran.
    if (tables.length > 0) await db.$executeRawUnsafe(`VACUUM ANALYZE ${tables.join(", ")}`);
    await db.$executeRawUnsafe("CHECKPOINT");
  };


  /**
   * After a warm-up drain (WARM_ALERTS): all `count` deliveries arrived with valid signatures (and
   * once each, when `exactlyOnce`); the receiver is reset for the timed drain.
   */
  const warmedUp = async (what: string, count: number, exactlyOnce = false) => {
    const s = await stats();
    await reset();
    if (s.received !== count || s.invalid !== 0 || (exactlyOnce && s.duplicates !== 0)) {
      throw new Error(`${what}: ${s.received} of ${count} warm-up deliveries arrived, ${s.invalid} bad signatures, ${s.duplicates} duplicates`);
    }
  };

  /** A team with `count` active endpoints at /<tag>/<i>, secrets registered with the receiver. */
  async function endpoints(tag: string, count: number, url = (i: number) => `${base}/${tag}/${i}`) {
    const team = await db.team.create({ data: { name: tag } });
    const secrets: Record<string, string> = {};
    for (let i = 0; i < count; i++) {
      const { secret } = await createActiveEndpoint(team.id, url(i));
      secrets[`/${tag}/${i}`] = secret;
    }
    await ask(receiver, { secrets }, "ok");
    return { team, secrets };
  }

  return {
    only,
    pg,
    db,
    base,
    receiver,
    stats,
    reset,
    results,
    report,
    cleanup,
    workerFile,
    endpoints,
    enqueue,
    settle,
    warmedUp,
    printStatementStats,
    sampleWaits,
    deliveryHeaders,
  };
}
