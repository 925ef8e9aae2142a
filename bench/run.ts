// `npm run bench`: throughput, latency and isolation of webhook dispatch, measured against
// a fresh embedded PostgreSQL and a signature-checking receiver in its own process.
//   BENCH_ONLY=raw,dispatch,pgboss,latency,isolation   run a subset
//   BENCH_ALERTS=2000 BENCH_ENDPOINTS=10               size of the throughput runs
import { execFileSync, fork, spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Agent, request } from "undici";
import { freePort } from "../scripts/lib/embedded-postgres";
import { startBenchDatabase } from "./database";

const only = new Set((process.env.BENCH_ONLY ?? "raw,dispatch,pgboss,latency,isolation").split(","));
const ALERTS = Number(process.env.BENCH_ALERTS ?? 2000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 10);
const TOTAL = ALERTS * ENDPOINTS;
const CONCURRENCY = 512;
const BOSS_WORKERS = Number(process.env.BENCH_BOSS_WORKERS ?? 1);
const BOSS_BATCH = Number(process.env.BENCH_BOSS_BATCH ?? CONCURRENCY);
const say = (line: string) => console.log(line);
const rate = (count: number, ms: number) => (count / ms) * 1000;
const fmt = (n: number, digits = 0) => n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });

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
  const { deliveryHeaders } = await import("../lib/webhooks/sign");

  const workerFile = bundleWorker();
  const receiver = child("bench/receiver.ts");
  const { port } = await ask<{ port: number }>(receiver, undefined, "port");
  const base = `http://127.0.0.1:${port}`;
  const stats = () => ask<{ stats: ReceiverStats }>(receiver, "stats", "stats").then((r) => r.stats);
  const reset = () => ask(receiver, "reset", "reset");
  const results: Record<string, number> = {};
  const cleanup: (() => Promise<unknown>)[] = [];

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
        return nineRate(s, tag);
      };
      const alone = await runWith("iso-alone", 9);
      const beside = await runWith("iso-hang", 10);
      results.isolation = beside / alone;
      say(`    nine alone ${fmt(alone)} deliveries/s; beside the hanging one ${fmt(beside)} deliveries/s; fraction ${fmt(results.isolation, 2)}`);
    }
    // (1) The raw baseline: signed keep-alive POSTs straight from a loop, no database.
    if (only.has("raw")) {
      say(`\n(1) raw undici keep-alive POST loop: ${fmt(TOTAL)} requests, concurrency ${CONCURRENCY}`);
      const secrets = Object.fromEntries(Array.from({ length: ENDPOINTS }, (_, i) => [`/raw/${i}`, `whsec_${crypto.randomBytes(32).toString("base64")}`]));
      await ask(receiver, { secrets }, "ok");
      const body = JSON.stringify({ id: "evt_raw", type: "alert.triggered", data: { alert: { id: "a", title: "raw" } } });
      const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < TOTAL) {
            const n = next++;
            const prefix = `/raw/${n % ENDPOINTS}`;
            const headers = deliveryHeaders(secrets[prefix]!, `msg_raw_${n}`, Math.floor(Date.now() / 1000), body);
            const response = await request(`${base}${prefix}`, { method: "POST", headers, body, dispatcher: agent });
            await response.body.dump();
          }
        }),
      );
      const elapsed = performance.now() - started;
      await agent.close();
      const s = await stats();
      results.raw = rate(TOTAL, elapsed);
      say(`    ${fmt(results.raw)} req/s (${fmt(elapsed / 1000, 2)} s); received ${fmt(s.received)}, bad signatures ${s.invalid}`);
      await reset();
    }

    // (2) Our dispatch: enqueued through the real enqueue code, drained by one worker process.
    if (only.has("dispatch")) {
      say(`\n(2) mon1tor dispatch: ${fmt(ALERTS)} alerts × ${ENDPOINTS} endpoints = ${fmt(TOTAL)} deliveries, one worker`);
      const { team } = await endpoints("ep", ENDPOINTS);
      const enqueueMs = await enqueue(team, ALERTS);
      say(`    enqueued in ${fmt(enqueueMs / 1000, 2)} s (${fmt(rate(TOTAL, enqueueMs))} deliveries/s through ingestAlert)`);
      const worker = child(workerFile);
      cleanup.push(async () => worker.kill());
      await ask(worker, undefined, "ready");
      const run = await ask<{ elapsedMs: number; stats: { delivered: number }; maxRssMb: number }>(worker, "drain", "elapsedMs");
      const s = await stats();
      const delivered = await db.delivery.count({ where: { teamId: team.id, status: "delivered" } });
      results.dispatch = rate(run.stats.delivered, run.elapsedMs);
      results.rss = run.maxRssMb;
      say(`    ${fmt(results.dispatch)} deliveries/s (${fmt(run.elapsedMs / 1000, 2)} s)${results.raw ? `, ${fmt(results.dispatch / results.raw, 2)}× the raw loop` : ""}; worker peak RSS ${fmt(run.maxRssMb)} MB`);
      say(`    received ${fmt(s.received)} (${s.duplicates} duplicates, ${s.invalid} bad signatures); ${fmt(delivered)} marked delivered`);
      if (delivered !== TOTAL) console.log(await db.$queryRaw`SELECT status, attempts, "nextAttemptAt" > now() AS future, "leaseExpiresAt" IS NOT NULL AS leased, count(*)::int FROM "Delivery" WHERE "teamId" = ${team.id} AND status <> 'delivered' GROUP BY 1,2,3,4`, new Date());
      if (s.received !== TOTAL || s.duplicates !== 0 || s.invalid !== 0 || delivered !== TOTAL) throw new Error("dispatch bench: not every delivery arrived exactly once with a valid signature");
      worker.send("exit");
      await new Promise((resolve) => worker.once("exit", resolve));
      await reset();
    }

    // (3) pg-boss: the same POSTs as pg-boss jobs, in the same PostgreSQL.
    if (only.has("pgboss")) {
      say(`\n(3) pg-boss 10: the same ${fmt(TOTAL)} signed POSTs as jobs, one process, ${BOSS_WORKERS} poller(s) × batches of ${BOSS_BATCH} (${BOSS_WORKERS * BOSS_BATCH} in flight at most; ours: ${CONCURRENCY})`);
      const secrets = Object.fromEntries(Array.from({ length: ENDPOINTS }, (_, i) => [`/boss/${i}`, `whsec_${crypto.randomBytes(32).toString("base64")}`]));
      await ask(receiver, { secrets }, "ok");
      const { default: PgBoss } = await import("pg-boss");
      const boss = new PgBoss({ connectionString: databaseUrl, max: 10, supervise: false, schedule: false, migrate: true });
      boss.on("error", (error: Error) => console.error("[pg-boss]", error.message));
      await boss.start();
      await boss.createQueue("deliveries");
      const body = JSON.stringify({ id: "evt_boss", type: "alert.triggered", data: { alert: { id: "b", title: "boss" } } });
      const jobs = Array.from({ length: TOTAL }, (_, n) => ({ name: "deliveries", data: { n, prefix: `/boss/${n % ENDPOINTS}` } }));
      for (let i = 0; i < jobs.length; i += 1000) await boss.insert(jobs.slice(i, i + 1000));
      const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
      let done = 0;
      const started = performance.now();
      const finished = new Promise<void>((resolve) => {
        // One poller fetching a batch as large as our in-flight limit: the same concurrency as our worker.
        for (let w = 0; w < BOSS_WORKERS; w++) {
          void boss.work<{ n: number; prefix: string }>("deliveries", { batchSize: BOSS_BATCH, pollingIntervalSeconds: 0.5 }, async (batch) => {
            await Promise.all(
              batch.map(async (job) => {
                const headers = deliveryHeaders(secrets[job.data.prefix]!, `msg_boss_${job.data.n}`, Math.floor(Date.now() / 1000), body);
                const response = await request(`${base}${job.data.prefix}`, { method: "POST", headers, body, dispatcher: agent });
                await response.body.dump();
              }),
            );
            done += batch.length;
            if (done >= TOTAL) resolve();
          });
        }
      });
      await finished;
      const elapsed = performance.now() - started;
      await boss.stop({ graceful: true, wait: true, close: true });
      await agent.close();
      const s = await stats();
      results.pgboss = rate(TOTAL, elapsed);
      say(`    ${fmt(results.pgboss)} deliveries/s (${fmt(elapsed / 1000, 2)} s); received ${fmt(s.received)}, bad signatures ${s.invalid}`);
      if (results.dispatch) say(`    mon1tor / pg-boss = ${fmt(results.dispatch / results.pgboss, 2)}×`);
      await reset();
    }

    // (4) Latency through the real API on a running server, with the worker beside it.
    if (only.has("latency")) {
      const seconds = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
      const perSecond = Number(process.env.BENCH_LATENCY_RATE ?? 200);
      say(`\n(4) latency: ${perSecond} alerts/s × ${ENDPOINTS} endpoints for ${seconds} s through POST /api/v1/alerts on next start`);
      const { team } = await endpoints("lat", ENDPOINTS);
      const owner = await db.user.create({ data: { email: `bench-${Date.now()}@example.test`, name: "bench", passwordHash: "x" } });
      const { createApiKey } = await import("../lib/api-keys/keys");
      const { key } = await createApiKey({ user: { id: owner.id, name: "bench", email: owner.email }, team, role: "owner", ip: null }, "bench");
      say("    building…");
      await new Promise<void>((resolve, reject) =>
        spawn("node_modules/.bin/next", ["build"], { stdio: "ignore", env: process.env }).on("exit", (code) => (code === 0 ? resolve() : reject(new Error("next build failed")))),
      );
      const webPort = await freePort();
      const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
      const web = spawn(process.execPath, [...profile, "node_modules/next/dist/bin/next", "start", "--port", String(webPort)], { stdio: "ignore", env: { ...process.env, NEXTAUTH_URL: `http://127.0.0.1:${webPort}` } });
      const worker = spawn(process.execPath, ["--import", "tsx", "scripts/worker.ts"], { stdio: "ignore", env: process.env });
      cleanup.push(async () => web.kill(), async () => worker.kill());
      const api = `http://127.0.0.1:${webPort}/api/v1/alerts`;
      for (let i = 0; i < 100; i++) {
        try {
          const r = await request(`http://127.0.0.1:${webPort}/signin`);
          await r.body.dump();
          if (r.statusCode === 200) break;
        } catch {}
        await new Promise((r) => setTimeout(r, 300));
      }
      await ask(receiver, { trackArrivals: true }, "ok");
      const agent = new Agent({ connections: 32 });
      const sent = new Map<string, number>();
      const apiTimes: number[] = [];
      const send = async (i: number) => {
        const at = Date.now();
        const response = await request(api, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ title: `latency ${i}`, severity: "critical" }),
          dispatcher: agent,
        });
        const json = (await response.body.json()) as { id: string };
        sent.set(json.id, at);
        apiTimes.push(Date.now() - at);
      };
      // Warm up the routes before measuring.
      for (let i = 0; i < 20; i++) await send(-i);
      await reset();
      sent.clear();
      apiTimes.length = 0;
      const inFlight: Promise<void>[] = [];
      const started = Date.now();
      for (let i = 0; i < seconds * perSecond; i++) {
        const due = started + (i * 1000) / perSecond;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        inFlight.push(send(i));
      }
      await Promise.all(inFlight);
      const expected = seconds * perSecond * ENDPOINTS;
      const deadline = Date.now() + 60_000;
      let s = await stats();
      while (s.received < expected && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        s = await stats();
      }
      const latencies = s.arrivals.filter(([id]) => sent.has(id)).map(([id, t]) => t - sent.get(id)!).sort((a, b) => a - b);
      const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
      apiTimes.sort((a, b) => a - b);
      say(`    API response time p50 ${fmt(apiTimes[Math.floor(apiTimes.length / 2)] ?? NaN)} ms, p99 ${fmt(apiTimes[Math.floor(apiTimes.length * 0.99)] ?? NaN)} ms`);
      results.p50 = pct(50);
      results.p99 = pct(99);
      say(`    ${fmt(latencies.length)} of ${fmt(expected)} deliveries measured; API call → receipt p50 ${fmt(results.p50)} ms, p99 ${fmt(results.p99)} ms, max ${fmt(latencies.at(-1) ?? NaN)} ms`);
      await ask(receiver, { trackArrivals: false }, "ok");
      await agent.close();
      web.kill("SIGINT");
      worker.kill();
      await new Promise((resolve) => web.once("exit", resolve));
      await reset();
    }

  } finally {
    for (const step of cleanup) await step().catch(() => {});
    receiver.kill();
    await db.$disconnect();
    await pg.stop();
  }

  say("\nsummary");
  if (results.raw) say(`  raw loop           ${fmt(results.raw)} req/s`);
  if (results.dispatch) say(`  mon1tor dispatch   ${fmt(results.dispatch)} deliveries/s${results.raw ? ` = ${fmt(results.dispatch / results.raw, 2)}× raw` : ""}${results.pgboss ? ` = ${fmt(results.dispatch / results.pgboss, 2)}× pg-boss` : ""} (target ≥ 15,000, ≥ 0.23× raw, ≥ 1.15× pg-boss)`);
  if (results.rss) say(`  worker peak RSS    ${fmt(results.rss)} MB (target < 200)`);
  if (results.pgboss) say(`  pg-boss            ${fmt(results.pgboss)} deliveries/s`);
  if (results.p50 !== undefined) say(`  API → receipt      p50 ${fmt(results.p50)} ms, p99 ${fmt(results.p99!)} ms (target < 50 / < 250)`);
  if (results.isolation !== undefined) say(`  isolation          ${fmt(results.isolation, 2)} (target ≥ 0.8)`);
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
