// `npm run bench`: throughput, latency and isolation of webhook dispatch, measured against
// a fresh embedded PostgreSQL and a signature-checking receiver in its own process.
//   BENCH_ONLY=isolation,raw,dispatch,metrics,naive,pgboss,scaleout,ingest,latency,overload,batch   run a subset
//   BENCH_ALERTS=2000 BENCH_ENDPOINTS=10               size of the throughput runs
// Prints a table and writes bench/results/latest.json.
import { execFileSync, fork, spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Agent, request } from "undici";
import { freePort } from "../scripts/lib/embedded-postgres";
import { cpuSeconds, postgresPids } from "./cpu";
import { startBenchDatabase } from "./database";
import { batchIngest, overload, type StormContext } from "./storm";

const only = new Set((process.env.BENCH_ONLY ?? "isolation,raw,dispatch,metrics,naive,pgboss,scaleout,ingest,latency,overload,batch").split(","));
const RAW_TOTAL = Number(process.env.BENCH_RAW_REQUESTS ?? 100_000);
const ALERTS = Number(process.env.BENCH_ALERTS ?? 2000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 10);
const LATENCY_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 200);
const LATENCY_HIGH_RATE = Number(process.env.BENCH_LATENCY_HIGH_RATE ?? 400);
const TOTAL = ALERTS * ENDPOINTS;
const CONCURRENCY = 512;
const say = (line: string) => console.log(line);
const rate = (count: number, ms: number) => (count / ms) * 1000;
const fmt = (n: number, digits = 0) => n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Where the CPU went while `work` ran: per delivery (or what `count` counts), in µs, for each named process group. */
async function cpuSplit<T>(
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

type ReceiverStats = { received: number; invalid: number; duplicates: number; byPrefix: Record<string, { count: number; first: number; last: number }>; arrivals: [string, number][] };

function child(file: string, env: Record<string, string> = {}): ChildProcess {
  const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  return fork(path.resolve(file), [], { execArgv: [...(file.endsWith(".ts") ? ["--import", "tsx"] : []), ...profile], env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

/** The dispatch worker runs bundled on plain node, as `npm run build` ships it to production. */
function bundleWorker(): string {
  const out = path.resolve(".data/bench/dispatch-worker.mjs");
  execFileSync("node_modules/.bin/esbuild", ["bench/dispatch-worker.ts", "--bundle", "--platform=node", "--format=esm", "--packages=external", "--target=node20", `--outfile=${out}`, "--log-level=warning"]);
  return out;
}

function ask<T>(proc: ChildProcess, message: unknown, key: string): Promise<T> {
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

async function main() {
  say(`mon1tor dispatch bench · ${new Date().toISOString().slice(0, 10)} · ${os.cpus().length} × ${os.cpus()[0]?.model.trim()} · ${fmt(os.totalmem() / 2 ** 30)} GiB · Node ${process.version}`);
  const { pg, databaseUrl } = await startBenchDatabase("bench");
  const { db } = await import("../lib/db");
  const { ingestAlert } = await import("../lib/alerts/ingest");
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
    const top = await db.$queryRawUnsafe<{ ms: number; plan: number; plans: number; calls: number; query: string }[]>(
      `SELECT round(total_exec_time)::int AS ms, round(total_plan_time)::int AS plan, plans::int, calls::int, left(regexp_replace(query, '\\s+', ' ', 'g'), 80) AS query
       FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 12`,
    );
    say("      executing  planning (plans)    calls  statement");
    for (const row of top) say(`      ${String(row.ms).padStart(6)} ms ${String(row.plan).padStart(6)} ms (${String(row.plans).padStart(6)}) ${String(row.calls).padStart(6)}  ${row.query}`);
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

  async function enqueue(team: { id: string; name: string }, alerts: number) {
    const started = performance.now();
    for (let done = 0; done < alerts; done += 100) {
      await db.$transaction(async (tx) => {
        for (let i = done; i < Math.min(alerts, done + 100); i++) await ingestAlert(tx, team, { title: `bench ${i}`, severity: "warning", status: "triggered" });
      }, { timeout: 60_000 });
    }
    return performance.now() - started;
  }

  try {
    // (5) Isolation: one of ten endpoints hangs until the timeout. It runs first, on a fresh
    // database: after the other phases' 100,000-odd writes, vacuum and checkpoints skew it.
    if (only.has("isolation")) {
      const perEndpoint = Number(process.env.BENCH_ISOLATION_ALERTS ?? 2000);
      const timeoutMs = Number(process.env.BENCH_ISOLATION_TIMEOUT_MS ?? 5000);
      say(`\n(5) isolation: ${fmt(perEndpoint)} alerts to 9 healthy endpoints, alone and beside a 10th that hangs (timeout ${timeoutMs / 1000} s)`);
      const nineRate = (s: ReceiverStats, tag: string) => {
        const entries = Object.entries(s.byPrefix).filter(([prefix]) => prefix.startsWith(`/${tag}/`) && prefix !== `/${tag}/9`).map(([, e]) => e);
        const count = entries.reduce((sum, e) => sum + e.count, 0);
        const first = Math.min(...entries.map((e) => e.first));
        const last = Math.max(...entries.map((e) => e.last));
        return rate(count, last - first);
      };
      // The hanging endpoint is another host (its own port), as a customer's broken server would be.
      const hanging = child("bench/receiver.ts");
      const hangingPort = (await ask<{ port: number }>(hanging, undefined, "port")).port;
      await ask(hanging, { hang: ["/iso-hang/9"] }, "ok");
      cleanup.push(async () => hanging.kill());
      const runWith = async (tag: string, count: number) => {
        const { team } = await endpoints(tag, count, (i) => (i === 9 ? `http://127.0.0.1:${hangingPort}/${tag}/${i}` : `${base}/${tag}/${i}`));
        await enqueue(team, perEndpoint);
        const worker = child(workerFile, { BENCH_TIMEOUT_MS: String(timeoutMs) });
        await ask(worker, undefined, "ready");
        await ask(worker, "drain", "elapsedMs");
        worker.kill();
        const s = await stats();
        await reset();
        // Leave nothing behind: the hanging endpoint's unfinished deliveries would otherwise
        // hold the next phase's worker on their timeouts.
        await db.team.delete({ where: { id: team.id } });
        return nineRate(s, tag);
      };
      // Two rounds of each, in the order alone, beside, beside, alone: single short runs moved
      // the fraction between 0.74 and 1.08 on this machine, and the mirrored order cancels drift.
      const alone: number[] = [];
      const beside: number[] = [];
      for (const hangs of [false, true, true, false]) {
        if (hangs) beside.push(await runWith("iso-hang", 10));
        else alone.push(await runWith("iso-alone", 9));
      }
      const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
      results.isolation = mean(beside) / mean(alone);
      say(`    nine alone ${alone.map((r) => fmt(r)).join(", ")} deliveries/s; beside the hanging one ${beside.map((r) => fmt(r)).join(", ")}; fraction of the means ${fmt(results.isolation, 2)}`);
    }
    // (1) The raw baseline: signed keep-alive POSTs straight from a loop, no database, at 64
    // and at 512 in flight, long enough to reach steady state.
    if (only.has("raw")) {
      const secrets = Object.fromEntries(Array.from({ length: ENDPOINTS }, (_, i) => [`/raw/${i}`, `whsec_${crypto.randomBytes(32).toString("base64")}`]));
      await ask(receiver, { secrets }, "ok");
      const body = JSON.stringify({ id: "evt_raw", type: "alert.triggered", data: { alert: { id: "a", title: "raw" } } });
      for (const inFlight of [64, 512]) {
        say(`\n(1) raw undici keep-alive POST loop: ${fmt(RAW_TOTAL)} requests, ${inFlight} in flight over 64 connections`);
        const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
        let next = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: inFlight }, async () => {
            while (next < RAW_TOTAL) {
              const n = next++;
              const prefix = `/raw/${n % ENDPOINTS}`;
              const headers = deliveryHeaders(secrets[prefix]!, `msg_raw_${inFlight}_${n}`, Math.floor(Date.now() / 1000), body);
              const response = await request(`${base}${prefix}`, { method: "POST", headers, body, dispatcher: agent });
              await response.body.dump();
            }
          }),
        );
        const elapsed = performance.now() - started;
        await agent.close();
        const s = await stats();
        results[`rawLoop${inFlight}`] = rate(RAW_TOTAL, elapsed);
        say(`    ${fmt(rate(RAW_TOTAL, elapsed))} req/s (${fmt(elapsed / 1000, 2)} s); received ${fmt(s.received)}, bad signatures ${s.invalid}`);
        await reset();
      }
      results.raw = Math.max(results.rawLoop64!, results.rawLoop512!);
    }

    // (2) Our dispatch: enqueued through the real enqueue code, drained by one worker process.
    /** One timed drain of ALERTS × ENDPOINTS deliveries by one worker process with `env`; checks every one arrived exactly once. */
    async function dispatchRun(tag: string, env: Record<string, string> = {}) {
      const { team } = await endpoints(tag, ENDPOINTS);
      const enqueueMs = await enqueue(team, ALERTS);
      say(`    enqueued in ${fmt(enqueueMs / 1000, 2)} s (${fmt(rate(TOTAL, enqueueMs))} deliveries/s through ingestAlert)`);
      await settle(['"Delivery"', '"Event"']);
      const worker = child(workerFile, env);
      cleanup.push(async () => worker.kill());
      await ask(worker, undefined, "ready");
      const split = await cpuSplit({ worker: () => [worker.pid!], postgres: postgresPids, receiver: () => [receiver.pid!] }, TOTAL, () =>
        ask<{ elapsedMs: number; stats: { delivered: number }; maxRssMb: number }>(worker, "drain", "elapsedMs"),
      );
      const run = split.value;
      const s = await stats();
      const delivered = await db.delivery.count({ where: { teamId: team.id, status: "delivered" } });
      if (delivered !== TOTAL) console.log(await db.$queryRaw`SELECT status, attempts, "nextAttemptAt" > now() AS future, "leaseExpiresAt" IS NOT NULL AS leased, count(*)::int FROM "Delivery" WHERE "teamId" = ${team.id} AND status <> 'delivered' GROUP BY 1,2,3,4`, new Date());
      if (s.received !== TOTAL || s.duplicates !== 0 || s.invalid !== 0 || delivered !== TOTAL) throw new Error(`${tag}: not every delivery arrived exactly once with a valid signature`);
      worker.send("exit");
      await new Promise((resolve) => worker.once("exit", resolve));
      await reset();
      return { perSecond: rate(run.stats.delivered, run.elapsedMs), elapsedMs: run.elapsedMs, maxRssMb: run.maxRssMb, split, received: s, delivered };
    }
    if (only.has("dispatch")) {
      say(`\n(2) mon1tor dispatch: ${fmt(ALERTS)} alerts × ${ENDPOINTS} endpoints = ${fmt(TOTAL)} deliveries, one worker`);
      const run = await dispatchRun("ep");
      results.dispatch = run.perSecond;
      results.rss = run.maxRssMb;
      say(`    ${fmt(results.dispatch)} deliveries/s (${fmt(run.elapsedMs / 1000, 2)} s)${results.raw ? `, ${fmt(results.dispatch / results.raw, 2)}× the raw loop` : ""}; worker peak RSS ${fmt(run.maxRssMb)} MB`);
      say(`    received ${fmt(run.received.received)} (${run.received.duplicates} duplicates, ${run.received.invalid} bad signatures); ${fmt(run.delivered)} marked delivered`);
      say(run.split.line);
      await printStatementStats();
    }

    // (2b) What measuring costs: the same drain with Prometheus metrics on and off (MON1TOR_METRICS=off),
    // alternating ABAB so drift on a shared machine falls on both.
    if (only.has("metrics")) {
      say(`\n(2b) dispatch with metrics on and off, alternating: ${fmt(TOTAL)} deliveries per run`);
      const runs: { metrics: "on" | "off"; perSecond: number }[] = [];
      for (const setting of ["on", "off", "on", "off"] as const) {
        const run = await dispatchRun(`metrics-${setting}-${runs.length}`, setting === "off" ? { MON1TOR_METRICS: "off" } : {});
        runs.push({ metrics: setting, perSecond: run.perSecond });
        say(`    metrics ${setting}: ${fmt(run.perSecond)} deliveries/s`);
      }
      const mean = (setting: "on" | "off") => runs.filter((r) => r.metrics === setting).reduce((sum, r) => sum + r.perSecond, 0) / 2;
      results.metricsOn = mean("on");
      results.metricsOff = mean("off");
      report.metricsAB = runs;
      say(`    on ${fmt(results.metricsOn)} vs off ${fmt(results.metricsOff)} deliveries/s (mean of two each): ${fmt(results.metricsOn / results.metricsOff, 3)}×`);
    }

    // (3a) The naive dispatcher on its own lean table (bench/naive-worker.ts), a few shapes.
    if (only.has("naive")) {
      const secrets = Object.fromEntries(Array.from({ length: ENDPOINTS }, (_, i) => [`/naive/${i}`, `whsec_${crypto.randomBytes(32).toString("base64")}`]));
      await ask(receiver, { secrets }, "ok");
      const { NAIVE_TABLE_SQL } = await import("./naive-worker");
      const configs = [
        { loops: 1, batch: 100 },
        { loops: 5, batch: 100 },
        { loops: 2, batch: 500 },
      ];
      // Each shape twice: bare, and writing one attempt row per delivery (NAIVE_LOG), what our attempt log costs.
      const best: Record<"bare" | "withLog", { rate: number; loops: number; batch: number } | null> = { bare: null, withLog: null };
      for (const config of configs.flatMap((shape) => [{ ...shape, log: false }, { ...shape, log: true }])) {
        for (const statement of NAIVE_TABLE_SQL.split(";").filter((q) => q.trim())) await db.$executeRawUnsafe(statement);
        await db.$executeRawUnsafe(
          `INSERT INTO bench_naive (url, secret, body)
           SELECT $1 || '/naive/' || (g % ${ENDPOINTS}), (($2::jsonb) ->> ('/naive/' || (g % ${ENDPOINTS}))), $3 FROM generate_series(0, ${TOTAL - 1}) g`,
          base,
          JSON.stringify(secrets),
          JSON.stringify({ id: "evt_naive", type: "alert.triggered", data: { alert: { id: "n", title: "naive" } } }),
        );
        await settle(["bench_naive"]);
        const worker = child("bench/naive-worker.ts", { NAIVE_LOOPS: String(config.loops), NAIVE_BATCH: String(config.batch), NAIVE_LOG: config.log ? "1" : "0" });
        cleanup.push(async () => worker.kill());
        await ask(worker, undefined, "ready");
        const split = await cpuSplit({ worker: () => [worker.pid!], postgres: postgresPids, receiver: () => [receiver.pid!] }, TOTAL, () =>
          ask<{ elapsedMs: number; delivered: number }>(worker, "drain", "elapsedMs"),
        );
        const run = split.value;
        worker.send("exit");
        const s = await stats();
        await reset();
        if (s.received !== TOTAL || s.invalid !== 0) throw new Error(`naive bench: ${s.received} of ${TOTAL} arrived, ${s.invalid} bad signatures`);
        const r = rate(run.delivered, run.elapsedMs);
        say(`(3a) naive dispatcher${config.log ? " with an attempt log" : ""}, lean table, ${config.loops} loop(s) × ${config.batch} per claim: ${fmt(r)} deliveries/s`);
        say(split.line);
        const kind = config.log ? "withLog" : "bare";
        if (!best[kind] || r > best[kind].rate) best[kind] = { rate: r, loops: config.loops, batch: config.batch };
      }
      results.naive = best.bare!.rate;
      report.naiveConfig = { loops: best.bare!.loops, batch: best.bare!.batch };
      results.naiveWithLog = best.withLog!.rate;
      report.naiveWithLogConfig = { loops: best.withLog!.loops, batch: best.withLog!.batch };
    }

    // (3b) pg-boss 10 on its own tables, its knobs swept; the job table analysed after loading.
    if (only.has("pgboss")) {
      const secrets = Object.fromEntries(Array.from({ length: ENDPOINTS }, (_, i) => [`/boss/${i}`, `whsec_${crypto.randomBytes(32).toString("base64")}`]));
      await ask(receiver, { secrets }, "ok");
      const configs = [
        { batchSize: 512, loops: 1, notify: false },
        { batchSize: 1000, loops: 2, notify: true },
        { batchSize: 500, loops: 2, notify: true },
        { batchSize: 250, loops: 4, notify: true },
        { batchSize: 2000, loops: 1, notify: true },
      ];
      let best: { rate: number; batchSize: number; loops: number; notify: boolean } | null = null;
      for (const [index, config] of configs.entries()) {
        const worker = child("bench/pgboss-worker.ts", {
          BOSS_TOTAL: String(TOTAL),
          BOSS_BATCH: String(config.batchSize),
          BOSS_LOOPS: String(config.loops),
          BOSS_NOTIFY: config.notify ? "1" : "0",
          BOSS_BASE: base,
          BOSS_SECRETS: JSON.stringify(secrets),
          BOSS_QUEUE: `deliveries_${index}`,
        });
        cleanup.push(async () => worker.kill());
        await ask(worker, undefined, "loaded");
        // As autovacuum would after a load this size.
        await settle(["pgboss.job"]);
        const split = await cpuSplit({ "pg-boss": () => [worker.pid!], postgres: postgresPids, receiver: () => [receiver.pid!] }, TOTAL, () =>
          ask<{ elapsedMs: number }>(worker, "drain", "elapsedMs"),
        );
        worker.send("exit");
        await new Promise((resolve) => worker.once("exit", resolve));
        const s = await stats();
        await reset();
        const r = rate(TOTAL, split.value.elapsedMs);
        say(`(3b) pg-boss 10, batchSize ${config.batchSize} × ${config.loops} work() loop(s), ${config.notify ? "notifyWorker after each batch" : "0.5 s polling"}: ${fmt(r)} deliveries/s (received ${fmt(s.received)}, bad signatures ${s.invalid})`);
        say(split.line);
        if (s.received !== TOTAL || s.invalid !== 0) throw new Error(`pg-boss bench: ${s.received} of ${TOTAL} arrived, ${s.invalid} bad signatures`);
        if (!best || r > best.rate) best = { rate: r, ...config };
      }
      results.pgboss = best!.rate;
      report.pgbossConfig = { batchSize: best!.batchSize, workLoops: best!.loops, notifyWorker: best!.notify };
    }

    // (3c) Scale-out: the same work as (2) for two worker processes at once.
    if (only.has("scaleout")) {
      const { team } = await endpoints("so", ENDPOINTS);
      await enqueue(team, ALERTS);
      await settle(['"Delivery"', '"Event"']);
      const workers = [child(workerFile), child(workerFile)];
      for (const worker of workers) cleanup.push(async () => worker.kill());
      await Promise.all(workers.map((worker) => ask(worker, undefined, "ready")));
      const started = performance.now();
      const split = await cpuSplit({ workers: () => workers.map((w) => w.pid!), postgres: postgresPids, receiver: () => [receiver.pid!] }, TOTAL, () =>
        Promise.all(workers.map((worker) => ask(worker, "drain", "elapsedMs"))),
      );
      const elapsed = performance.now() - started;
      const s = await stats();
      const delivered = await db.delivery.count({ where: { teamId: team.id, status: "delivered" } });
      for (const worker of workers) worker.send("exit");
      await reset();
      results.scaleOut2Workers = rate(TOTAL, elapsed);
      report.scaleOutDuplicates = s.duplicates;
      say(`\n(3c) scale-out: two workers, ${fmt(TOTAL)} deliveries: ${fmt(results.scaleOut2Workers)} deliveries/s${results.dispatch ? ` = ${fmt(results.scaleOut2Workers / results.dispatch, 2)}× one worker` : ""}; received ${fmt(s.received)}, ${s.duplicates} duplicates, ${fmt(delivered)} marked delivered`);
      say(split.line);
      if (s.received !== TOTAL || s.duplicates !== 0 || delivered !== TOTAL) throw new Error("scale-out bench: not every delivery arrived exactly once");
    }

    // (4) and (5) go through the real API on `next start`, with one worker beside it.
    if (only.has("ingest") || only.has("latency") || only.has("overload") || only.has("batch")) {
      const owner = await db.user.create({ data: { email: `bench-${Date.now()}@example.test`, name: "bench", passwordHash: "x" } });
      const { createApiKey } = await import("../lib/api-keys/keys");
      const keyFor = async (team: { id: string; name: string }) =>
        (await createApiKey({ user: { id: owner.id, name: "bench", email: owner.email }, team, role: "owner", ip: null }, { name: "bench", permissions: ["alerts:send"] })).key;
      say("\n    building for next start and the worker…");
      // `npm run build`: the app, and the worker bundled for plain node, as `npm start` runs them.
      await new Promise<void>((resolve, reject) =>
        spawn("npm", ["run", "--silent", "build"], { stdio: "ignore", env: process.env }).on("exit", (code) => (code === 0 ? resolve() : reject(new Error("npm run build failed")))),
      );
      const webPort = await freePort();
      const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
      const web = spawn(process.execPath, [...profile, "node_modules/next/dist/bin/next", "start", "--port", String(webPort)], { stdio: "ignore", env: { ...process.env, NEXTAUTH_URL: `http://127.0.0.1:${webPort}` } });
      const worker = spawn(process.execPath, [...profile, "dist/worker.mjs"], { stdio: "ignore", env: process.env });
      cleanup.push(async () => web.kill(), async () => worker.kill());
      /** The processes behind the API, for the CPU split per alert. */
      const apiProcesses = { web: () => [web.pid!], worker: () => [worker.pid!], postgres: postgresPids, receiver: () => [receiver.pid!], "load generator": () => [process.pid] };
      const api = `http://127.0.0.1:${webPort}/api/v1/alerts`;
      for (let i = 0; i < 100; i++) {
        try {
          const r = await request(`http://127.0.0.1:${webPort}/signin`);
          await r.body.dump();
          if (r.statusCode === 200) break;
        } catch {}
        await new Promise((r) => setTimeout(r, 300));
      }
      const agent = new Agent({ connections: 256 });
      const waitForDeliveries = async (expected: number, timeoutMs: number) => {
        const deadline = Date.now() + timeoutMs;
        let s = await stats();
        while (s.received < expected && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 250));
          s = await stats();
        }
        return s;
      };
      /** Open loop: `perSecond` requests a second for `seconds`, on schedule whatever the answers. */
      /** `warmSeconds`: the same load first, for that long, unmeasured (reported apart as `warmUp`). */
      const load = async (key: string, perSecond: number, seconds: number, tag: string, endpointCount: number, warmSeconds = 0) => {
        const sent = new Map<string, number>();
        const apiTimes: number[] = [];
        /** BENCH_TIMELINE=1: (sent at, API ms) of every request, printed per second after the run. */
        const timeline: [number, number][] = [];
        let refused = 0;
        const send = async (i: number, warmUp = false) => {
          const at = Date.now();
          try {
            const response = await request(api, {
              method: "POST",
              headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
              body: JSON.stringify({ title: warmUp ? `${tag} warm-up ${i}` : `${tag} ${i}`, severity: "critical" }),
              dispatcher: agent,
            });
            const json = (await response.body.json()) as { id: string };
            if (response.statusCode !== 202) refused += 1;
            else sent.set(json.id, at);
          } catch {
            refused += 1;
          }
          apiTimes.push(Date.now() - at);
          if (process.env.BENCH_TIMELINE) timeline.push([at, Date.now() - at]);
        };
        /** Sends `count` requests at `perSecond`, on schedule whatever the answers; resolves when all are answered. */
        const openLoop = async (count: number, warmUp: boolean) => {
          const inFlight: Promise<void>[] = [];
          const from = Date.now();
          for (let i = 0; i < count; i++) {
            const wait = from + (i * 1000) / perSecond - Date.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            inFlight.push(send(i, warmUp));
          }
          await Promise.all(inFlight);
        };
        for (let i = 0; i < 20; i++) await send(i, true);
        let warmUp: { apiP99: number; apiMax: number } | null = null;
        if (warmSeconds > 0) {
          const before = apiTimes.length;
          await openLoop(warmSeconds * perSecond, true);
          const times = apiTimes.slice(before).sort((x, y) => x - y);
          warmUp = { apiP99: times[Math.floor(times.length * 0.99)] ?? NaN, apiMax: times.at(-1) ?? NaN };
        }
        await waitForDeliveries((20 + warmSeconds * perSecond) * endpointCount, 60_000);
        await reset();
        sent.clear();
        apiTimes.length = 0;
        refused = 0;
        const started = Date.now();
        await openLoop(seconds * perSecond, false);
        const elapsedMs = Date.now() - started;
        if (process.env.BENCH_TIMELINE) {
          const worstBySecond = new Map<number, number>();
          for (const [at, ms] of timeline) {
            if (at < started) continue;
            const second = Math.floor((at - started) / 1000);
            worstBySecond.set(second, Math.max(worstBySecond.get(second) ?? 0, ms));
          }
          say(`    API time by second sent (max ms): ${[...worstBySecond].map(([second, ms]) => `${second}:${ms}`).join(" ")}`);
        }
        apiTimes.sort((x, y) => x - y);
        return { sent, refused, elapsedMs, warmUp, apiP50: apiTimes[Math.floor(apiTimes.length / 2)] ?? NaN, apiP99: apiTimes[Math.floor(apiTimes.length * 0.99)] ?? NaN };
      };
      const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
      const rssOf = (pid: number) => {
        let children: number[] = [];
        try {
          children = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" }).split("\n").map(Number).filter(Boolean);
        } catch {} // ps exits 1 when there are none
        const pids = [pid, ...children];
        return pids.reduce((sum, p) => sum + Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? 0) / 1024, 0);
      };

      // Latency first: the sustained-ingest phase leaves 60,000 alerts' worth of writes for
      // autovacuum, which would skew whatever runs after it.
      // At the storm rate the targets name (200/s), then at twice it (400/s, p99 < 500 ms).
      for (const perSecond of only.has("latency") ? [LATENCY_RATE, LATENCY_HIGH_RATE] : []) {
        const seconds = Number(process.env.BENCH_LATENCY_SECONDS ?? 30);
        const high = perSecond === LATENCY_HIGH_RATE;
        // The web server and the worker were started for this phase: their first seconds under load
        // (JIT, each connection's first statements) took API calls up to 2 s, which alone decided
        // the p99. Those seconds are sent first and reported on their own line.
        const warmSeconds = Number(process.env.BENCH_LATENCY_WARM_SECONDS ?? 3);
        say(`\n(4) latency: ${perSecond} alerts/s × ${ENDPOINTS} endpoints for ${seconds} s, API call → receipt, after ${warmSeconds} s of the same load on the just-started processes`);
        const { team } = await endpoints(high ? "lat-high" : "lat", ENDPOINTS);
        const key = await keyFor(team);
        await settle();
        await ask(receiver, { trackArrivals: true }, "ok");
        const split = await cpuSplit(
          apiProcesses,
          (seconds + warmSeconds) * perSecond,
          () => sampleWaits(() => load(key, perSecond, seconds, "latency", ENDPOINTS, warmSeconds)),
        );
        const run = split.value;
        const expected = run.sent.size * ENDPOINTS;
        const s = await waitForDeliveries(expected, 120_000);
        const latencies = s.arrivals.filter(([id]) => run.sent.has(id)).map(([id, t]) => t - run.sent.get(id)!).sort((x, y) => x - y);
        if (high) {
          results.latency400P99 = pct(latencies, 99);
          results.latency400P50 = pct(latencies, 50);
        } else {
          results.p50 = pct(latencies, 50);
          results.p99 = pct(latencies, 99);
        }
        if (run.warmUp && !high) {
          report.latencyWarmUp = { seconds: warmSeconds, apiP99Ms: run.warmUp.apiP99, apiMaxMs: run.warmUp.apiMax };
          say(`    the first ${warmSeconds} s (not in the results): API response time p99 ${fmt(run.warmUp.apiP99)} ms, max ${fmt(run.warmUp.apiMax)} ms`);
        }
        say(`    API response time p50 ${fmt(run.apiP50)} ms, p99 ${fmt(run.apiP99)} ms; refused ${run.refused}`);
        say(split.line.replace("per delivery", "per alert"));
        await printStatementStats();
        say(`    ${fmt(latencies.length)} of ${fmt(expected)} deliveries measured; API call → receipt p50 ${fmt(pct(latencies, 50))} ms, p99 ${fmt(pct(latencies, 99))} ms, max ${fmt(latencies.at(-1) ?? NaN)} ms`);
        await ask(receiver, { trackArrivals: false }, "ok");
        await reset();
      }
      if (only.has("ingest")) {
        // next start's floor: the same route answering 401 before any database work, 32 requests
        // in flight for 10 s. Whatever the app does per alert comes on top of this.
        const floorSeconds = Number(process.env.BENCH_FLOOR_SECONDS ?? 10);
        say(`\n(5a) next start's floor: POST /api/v1/alerts without a key (401, no database work), 32 in flight for ${floorSeconds} s`);
        const unauthenticated = async () => {
          const response = await request(api, { method: "POST", headers: { "content-type": "application/json" }, body: "{}", dispatcher: agent });
          await response.body.dump();
          if (response.statusCode !== 401) throw new Error(`floor: expected 401, got ${response.statusCode}`);
        };
        const closedLoop = async (ms: number) => {
          let answered = 0;
          const end = Date.now() + ms;
          await Promise.all(Array.from({ length: 32 }, async () => {
            while (Date.now() < end) {
              await unauthenticated();
              answered += 1;
            }
          }));
          return answered;
        };
        await closedLoop(2_000); // warm-up
        const floorStarted = Date.now();
        const floorCpu = await cpuSplit({ web: () => [web.pid!], "load generator": () => [process.pid] }, (answered: number) => answered, () => closedLoop(floorSeconds * 1000));
        const floorRate = floorCpu.value / ((Date.now() - floorStarted) / 1000);
        report.nextStartFloor = { requestsPerSecond: Math.round(floorRate), webCpuUsPerRequest: Math.round(floorCpu.perUnitUs.web!) };
        say(`    ${fmt(floorRate)} answers/s`);
        say(floorCpu.line.replace("per delivery", "per request"));

        const seconds = Number(process.env.BENCH_INGEST_SECONDS ?? 60);
        const perSecond = Number(process.env.BENCH_INGEST_RATE ?? 1000);
        say(`\n(5) ingest: ${fmt(perSecond)} alerts/s for ${seconds} s through POST /api/v1/alerts on next start, one active endpoint`);
        const { team } = await endpoints("ing", 1);
        await settle();
        const key = await keyFor(team);
        const split = await cpuSplit(
          apiProcesses,
          (value) => value.sent.size,
          () => load(key, perSecond, seconds, "ingest", 1),
        );
        const run = split.value;
        const accepted = run.sent.size;
        const stored = await db.alert.count({ where: { teamId: team.id, NOT: { title: { startsWith: "ingest warm-up" } } } });
        const s = await waitForDeliveries(accepted, 180_000);
        const arrived = s.byPrefix["/ing/0"]?.count ?? 0;
        results.webRssMb = rssOf(web.pid!);
        report.ingestSustained = {
          offeredPerSecond: perSecond,
          alertsPerSecond: Math.round(accepted / (run.elapsedMs / 1000)),
          accepted,
          refused: run.refused,
          lost: accepted - stored,
          deliveriesLost: Math.max(0, accepted - arrived),
          duplicates: s.duplicates,
          apiP50Ms: run.apiP50,
          apiP99Ms: run.apiP99,
        };
        say(`    accepted ${fmt(accepted)} (${fmt(accepted / (run.elapsedMs / 1000))}/s), refused ${run.refused}; stored ${fmt(stored)}; delivered ${fmt(arrived)} (${s.duplicates} duplicates)`);
        say(`    API p50 ${fmt(run.apiP50)} ms, p99 ${fmt(run.apiP99)} ms; web server peak RSS ${fmt(results.webRssMb)} MB`);
        say(split.line.replace("per delivery", "per accepted alert"));
        await reset();
      }

      const storm: StormContext = {
        base: `http://127.0.0.1:${webPort}`,
        key: "",
        agent,
        stored: async (prefix) => {
          const [row] = await db.$queryRaw<{ rows: number; distinct: number }[]>`
            SELECT count(*)::int AS rows, count(DISTINCT title)::int AS "distinct" FROM "Alert" WHERE title LIKE ${`${prefix}%`}`;
          return row!;
        },
        waitForDeliveries,
      };
      if (only.has("overload")) {
        const perSecond = Number(process.env.BENCH_OVERLOAD_RATE ?? 1000);
        const seconds = Number(process.env.BENCH_OVERLOAD_SECONDS ?? 60);
        say(`\n(6) overload: ${fmt(perSecond)} alerts/s offered for ${seconds} s, each retried with its Idempotency-Key after a 503 (Retry-After) until accepted`);
        const { team } = await endpoints("ovl", 1);
        await settle();
        const result = await overload({ ...storm, key: await keyFor(team) }, perSecond, seconds);
        report.overload = result;
        say(`    longest call ${fmt(result.maxCallMs)} ms (${result.callsOver2s} over 2 s); ${fmt(result.accepted)} of ${fmt(result.offered)} accepted, ${result.lost} lost, ${result.duplicates} duplicates; ${fmt(result.refusedCalls)} calls answered 503; all accepted and delivered ${result.secondsToDrain} s after the offer ended`);
        await reset();
      }
      if (only.has("batch")) {
        const seconds = Number(process.env.BENCH_BATCH_SECONDS ?? 60);
        say(`\n(7) batch ingest: 100 alerts per call, 4 callers in a closed loop for ${seconds} s, one active endpoint`);
        const { team } = await endpoints("bat", 1);
        await settle();
        const result = await batchIngest({ ...storm, key: await keyFor(team) }, 100, 4, seconds);
        report.batchIngest = result;
        say(`    ${fmt(result.alertsPerSecond)} alerts/s (${fmt(result.calls)} calls), ${result.lost} lost, ${result.deliveriesLost} deliveries lost`);
        await reset();
      }

      await agent.close();
      web.kill("SIGINT");
      worker.kill();
      await new Promise((resolve) => web.once("exit", resolve));
    }

  } finally {
    for (const step of cleanup) await step().catch(() => {});
    receiver.kill();
    await db.$disconnect();
    await pg.stop();
  }

  const ratio = (x: number | undefined, y: number | undefined) => (x && y ? Math.round((x / y) * 100) / 100 : null);
  const latest = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${fmt(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    rawLoop64: results.rawLoop64 ?? null,
    rawLoop512: results.rawLoop512 ?? null,
    naive: results.naive ? { deliveriesPerSecond: results.naive, config: report.naiveConfig } : null,
    pgbossBest: results.pgboss ? { deliveriesPerSecond: results.pgboss, config: report.pgbossConfig } : null,
    dispatch: results.dispatch ?? null,
    dispatchVsNaive: ratio(results.dispatch, results.naive),
    metricsOnVsOff: results.metricsOn && results.metricsOff ? { on: results.metricsOn, off: results.metricsOff, ratio: ratio(results.metricsOn, results.metricsOff), runs: report.metricsAB } : null,
    /** The naive loop that also writes one attempt row per delivery: what the attempt log itself costs. */
    naiveWithLog: results.naiveWithLog ? { deliveriesPerSecond: results.naiveWithLog, config: report.naiveWithLogConfig } : null,
    dispatchVsNaiveWithLog: ratio(results.dispatch, results.naiveWithLog),
    dispatchVsPgboss: ratio(results.dispatch, results.pgboss),
    scaleOut2Workers: results.scaleOut2Workers
      ? { deliveriesPerSecond: results.scaleOut2Workers, vsOneWorker: ratio(results.scaleOut2Workers, results.dispatch), duplicates: report.scaleOutDuplicates }
      : null,
    ingestSustained: report.ingestSustained ?? null,
    /** The alert route answering 401 before any database work, as fast as `next start` goes: the ingest's ceiling on this machine. */
    nextStartFloor: (report.nextStartFloor as { requestsPerSecond: number; webCpuUsPerRequest: number } | undefined) ?? null,
    latencyP50Ms: results.p50 ?? null,
    latencyP99Ms: results.p99 ?? null,
    latency400P50Ms: results.latency400P50 ?? null,
    latency400P99Ms: results.latency400P99 ?? null,
    /** Single-alert ingest sustained, as a fraction of next start's floor in the same run (target ≥ 0.8). */
    ingestFloorRatio: ratio((report.ingestSustained as { alertsPerSecond: number } | undefined)?.alertsPerSecond, (report.nextStartFloor as { requestsPerSecond: number } | undefined)?.requestsPerSecond),
    overload: report.overload ?? null,
    batchIngest: report.batchIngest ?? null,
    /** The latency phase's first seconds on the just-started processes, sent before the measured 30 s. */
    latencyWarmUp: report.latencyWarmUp ?? null,
    isolation: results.isolation ?? null,
    workerRssMb: results.rss ?? null,
    webRssMb: results.webRssMb ?? null,
  };
  const round = (n: number | null | undefined) => (n === null || n === undefined ? "—" : fmt(n));
  const ingest = report.ingestSustained as { alertsPerSecond: number; lost: number; deliveriesLost: number; apiP99Ms: number } | undefined;
  say("\nsummary");
  const rows: [string, string, string][] = [
    ["raw loop, 64 in flight", `${round(latest.rawLoop64)} req/s`, ""],
    ["raw loop, 512 in flight", `${round(latest.rawLoop512)} req/s`, ""],
    ["naive dispatcher (best)", `${round(results.naive)} deliveries/s`, JSON.stringify(report.naiveConfig ?? null)],
    ["naive + attempt log (best)", `${round(results.naiveWithLog)} deliveries/s`, JSON.stringify(report.naiveWithLogConfig ?? null)],
    ["pg-boss 10 (best of sweep)", `${round(results.pgboss)} deliveries/s`, JSON.stringify(report.pgbossConfig ?? null)],
    ["mon1tor dispatch, 1 worker", `${round(results.dispatch)} deliveries/s`, `${latest.dispatchVsNaiveWithLog ?? "—"}× naive + log (≥ 1.0), ${latest.dispatchVsNaive ?? "—"}× naive (≥ 0.8), ${latest.dispatchVsPgboss ?? "—"}× pg-boss (≥ 0.8)`],
    ["mon1tor dispatch, 2 workers", `${round(results.scaleOut2Workers)} deliveries/s`, `${latest.scaleOut2Workers?.vsOneWorker ?? "—"}× one worker (≥ 1.5)`],
    [
      "ingest",
      ingest ? `${fmt(ingest.alertsPerSecond)}/s, ${ingest.lost} + ${ingest.deliveriesLost} lost, p99 ${fmt(ingest.apiP99Ms)} ms` : "—",
      "0 alerts + 0 deliveries lost",
    ],
    [
      "next start floor (401, no db)",
      latest.nextStartFloor ? `${fmt(latest.nextStartFloor.requestsPerSecond)}/s, web ${fmt(latest.nextStartFloor.webCpuUsPerRequest)} µs/req` : "—",
      "the ingest's ceiling on this machine",
    ],
    [`API → receipt, ${LATENCY_RATE}/s × ${ENDPOINTS}`, `p50 ${round(results.p50)} ms, p99 ${round(results.p99)} ms`, "p50 < 30, p99 < 150"],
    [`API → receipt, ${LATENCY_HIGH_RATE}/s × ${ENDPOINTS}`, `p50 ${round(results.latency400P50)} ms, p99 ${round(results.latency400P99)} ms`, "p99 < 500"],
    ["ingest ÷ next start's floor", `${latest.ingestFloorRatio ?? "—"}`, "≥ 0.8"],
    [
      "overload, 1,000/s offered",
      latest.overload ? `longest call ${fmt((latest.overload as { maxCallMs: number }).maxCallMs)} ms, ${(latest.overload as { lost: number }).lost} lost, ${(latest.overload as { duplicates: number }).duplicates} dup.` : "—",
      "every call < 2 s; all accepted once; 0 lost",
    ],
    ["batch ingest, 100 per call", latest.batchIngest ? `${fmt((latest.batchIngest as { alertsPerSecond: number }).alertsPerSecond)}/s, ${(latest.batchIngest as { lost: number }).lost} lost` : "—", "≥ 5,000/s, 0 lost"],
    ["isolation", results.isolation === undefined ? "—" : fmt(results.isolation, 2), "≥ 0.9"],
    ["worker peak RSS", `${round(results.rss)} MB`, "< 200"],
    ["web server peak RSS (ingest)", `${round(results.webRssMb)} MB`, ""],
  ];
  for (const [name, value, note] of rows) say(`  ${name.padEnd(30)} ${value.padEnd(24)} ${note}`);
  fs.mkdirSync("bench/results", { recursive: true });
  fs.writeFileSync("bench/results/latest.json", `${JSON.stringify(latest, null, 2)}\n`);
  say("\nwrote bench/results/latest.json");
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
