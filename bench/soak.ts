// `npm run soak [-- --minutes N]`: the chaos soak. Two web processes (`next start`) and two
// workers on one PostgreSQL, 100 alerts/s to 10 endpoints for ten minutes (by default), while
// things break: PostgreSQL restarted cleanly and with kill -9, a worker killed with kill -9, a
// web process restarted, one receiver down for two minutes, three endpoints flapping between
// 200, 500 and hanging throughout. Then it checks what users rely on: every accepted alert
// reached every healthy endpoint exactly once, nothing was lost, memory stayed flat, and the
// tables hold no bloat. Writes bench/results/soak.json. Not part of `npm test`.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Agent, request } from "undici";
import { startBenchDatabase } from "./database";
import { freePort } from "../scripts/lib/embedded-postgres";
import { nextStartArgs } from "../scripts/lib/next-start";

const minutes = Number(process.argv[process.argv.indexOf("--minutes") + 1] ?? NaN) || Number(process.env.SOAK_MINUTES ?? 10);
const durationMs = minutes * 60_000;
const RATE = Number(process.env.SOAK_RATE ?? 100);
const ENDPOINTS = 10;
const FLAPPING = new Set([7, 8, 9]);
const DOWN = 6;
const DOWN_MS = Math.min(120_000, durationMs * 0.2);
const DRAIN_MS = 180_000;
const say = (line: string) => console.log(`[soak ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${line}`);
let startedAt = Date.now();

// ---- receivers: one server per endpoint, so one can go down alone ----
type Receiver = { server: http.Server; port: number; counts: Map<string, number>; mode: () => "ok" | "500" | "hang" | "down" };
const firstAt = new Map<string, number>();
const receivers: Receiver[] = [];
let downUntil = 0;
/** The fault that began last (it stays named after its window): duplicates are counted against it. */
let lastFault = "none";
const duplicatesAfterFault: Record<string, number> = {};
/**
 * When a process was killed with kill -9. A delivery a worker had sent but not yet recorded is
 * sent again once its lease runs out: at least once, as with every webhook sender. PostgreSQL's
 * kill -9 should re-send nothing: claims and results are committed with the WAL flush (lib/db.ts,
 * createDispatchPool). A duplicate whose first copy arrived before a kill and the second after it
 * is counted as such; any other is not.
 */
const killedAt: number[] = [];
let duplicatesAcrossKill = 0;
const stuckFaults: string[] = [];
async function startReceivers() {
  for (let i = 0; i < ENDPOINTS; i++) {
    const counts = new Map<string, number>();
    // Flapping: 20 s cycles of 200, then 500, then hanging, phase-shifted per endpoint.
    const mode = (): "ok" | "500" | "hang" | "down" => {
      if (i === DOWN && Date.now() < downUntil) return "down";
      if (!FLAPPING.has(i)) return "ok";
      const phase = Math.floor((Date.now() / 1000 + i * 7) / 20) % 3;
      return phase === 0 ? "ok" : phase === 1 ? "500" : "hang";
    };
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        // Counted by the event the payload carries, as a receiver deduplicates.
        let id = "";
        try {
          id = req.headers["webhook-id"] ? String((JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id?: string }).id ?? "") : "";
        } catch {}
        const m = mode();
        if (m === "hang") return; // the worker's timeout fires
        if (m === "500") return void res.writeHead(500).end();
        if (req.url?.includes("/validate/") || !id) return void res.writeHead(200).end();
        counts.set(id, (counts.get(id) ?? 0) + 1);
        const key = `${i}:${id}`;
        if (counts.get(id) === 1) firstAt.set(key, Date.now());
        else if (!FLAPPING.has(i) && i !== DOWN) {
          duplicatesAfterFault[lastFault] = (duplicatesAfterFault[lastFault] ?? 0) + 1;
          const first = firstAt.get(key)!;
          if (killedAt.some((at) => first <= at)) duplicatesAcrossKill += 1;
        }
        res.writeHead(200).end();
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    receivers.push({ server, port: (server.address() as AddressInfo).port, counts, mode });
  }
}
async function takeDown(receiver: Receiver) {
  await new Promise<void>((resolve) => {
    receiver.server.close(() => resolve());
    receiver.server.closeAllConnections();
  });
}
async function bringUp(receiver: Receiver) {
  await new Promise<void>((resolve) => receiver.server.listen(receiver.port, "127.0.0.1", resolve));
}

// ---- processes ----
// Each process's output goes to its own file under the system's temp folder, and an exit the soak
// did not cause is counted and the process started again, as a supervisor would.
type Proc = { name: string; child: ChildProcess; start: () => ChildProcess; startedAt: number; starts: number; unexpectedExits: string[]; expectExit: boolean };
const procs: Proc[] = [];
const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "mon1tor-soak-logs-"));
let finishing = false;
function launch(name: string, spawnIt: () => ChildProcess): Proc {
  const log = fs.createWriteStream(path.join(logDir, `${name.replace(/ /g, "-")}.log`), { flags: "a" });
  const start = () => {
    const child = spawnIt();
    proc.startedAt = Date.now();
    proc.starts += 1;
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once("exit", (code, signal) => {
      if (finishing || proc.expectExit || proc.child !== child) return;
      proc.unexpectedExits.push(`${new Date().toISOString()} ${signal ?? `code ${code}`}`);
      say(`${name} exited unexpectedly (${signal ?? `code ${code}`}): starting it again`);
      proc.child = start();
    });
    return child;
  };
  const proc: Proc = { name, start, child: null as unknown as ChildProcess, startedAt: 0, starts: 0, unexpectedExits: [], expectExit: false };
  proc.child = start();
  procs.push(proc);
  return proc;
}
const rssOf = (pid: number | undefined) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
};
/**
 * Memory of every process every 5 s: its RSS from /proc and, where it serves metrics, V8's heap
 * and the memory outside it (Buffers), so growth can be told apart from a heap that leaks.
 */
type MemorySample = { at: number; pid: number; rss: number; heapUsed?: number; heapTotal?: number; external?: number };
const memory = new Map<Proc, MemorySample[]>();
async function sampleMemory(metricsUrl: (p: Proc) => string | undefined) {
  await Promise.all(
    procs.map(async (p) => {
      const pid = p.child.pid;
      const rss = rssOf(pid);
      if (!pid || !rss) return;
      const url = metricsUrl(p);
      const text = url ? await fetch(url, { signal: AbortSignal.timeout(2_000) }).then((r) => r.text(), () => "") : "";
      const value = (name: string) => {
        const found = new RegExp(`^mon1tor_${name} (\\S+)$`, "m").exec(text)?.[1];
        return found === undefined ? undefined : Number(found);
      };
      const samples = memory.get(p) ?? [];
      samples.push({ at: Date.now(), pid, rss, heapUsed: value("nodejs_heap_size_used_bytes"), heapTotal: value("nodejs_heap_size_total_bytes"), external: value("nodejs_external_memory_bytes") });
      memory.set(p, samples);
    }),
  );
}
/**
 * Growth of each process from its warm-up to the end: the first sample of its current pid taken a
 * warm-up after that pid started (a process started again during the run is measured from its
 * own warm-up, not against the one it replaced), against the last.
 */
function memoryGrowth(warmUpMs: number) {
  return procs.flatMap((p) => {
    const mine = (memory.get(p) ?? []).filter((m) => m.pid === p.child.pid);
    const first = mine.find((m) => m.at >= p.startedAt + warmUpMs);
    const last = mine.at(-1);
    if (!first || !last || first === last) return [];
    const ratio = (a?: number, b?: number) => (a && b ? Number((b / a - 1).toFixed(3)) : undefined);
    const every30s = mine.filter((m, i) => m.at >= first.at && (i === mine.length - 1 || Math.round((m.at - first.at) / 5_000) % 6 === 0));
    return [{
      process: p.name,
      pid: p.child.pid,
      restartedDuringRun: p.starts > 1,
      fromSecond: Math.round((first.at - startedAt) / 1000),
      toSecond: Math.round((last.at - startedAt) / 1000),
      startBytes: first.rss,
      endBytes: last.rss,
      growth: ratio(first.rss, last.rss)!,
      heapUsedGrowth: ratio(first.heapUsed, last.heapUsed),
      heapUsed: first.heapUsed === undefined ? undefined : { start: first.heapUsed, end: last.heapUsed },
      external: first.external === undefined ? undefined : { start: first.external, end: last.external },
      /** RSS every 30 s from the warm-up, in MiB: a plateau is a cache filling, a slope a leak. */
      rssMiBEvery30s: every30s.map((m) => Math.round(m.rss / 1_048_576)),
      heapUsedMiBEvery30s: every30s.map((m) => (m.heapUsed === undefined ? null : Math.round(m.heapUsed / 1_048_576))),
    }];
  });
}
/** CPU seconds used so far by a process, from /proc (utime + stime). */
const cpuOf = (pid: number | undefined) => {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
};
/**
 * CPU seconds of PostgreSQL: each postmaster's own and its reaped backends' (cutime, cstime), and
 * the backends running now. A crash starts a new postmaster from zero: compare across one with care.
 */
const postgresCpu = () =>
  fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).reduce((sum, pid) => {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "postgres") return sum;
      const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      const parent = fs.readFileSync(`/proc/${fields[1]}/comm`, "utf8").trim();
      const own = Number(fields[11]) + Number(fields[12]);
      const reaped = parent === "postgres" ? 0 : Number(fields[13]) + Number(fields[14]);
      return sum + (own + reaped) / 100;
    } catch {
      return sum;
    }
  }, 0);
/** CPU seconds the whole machine spent busy (everything but idle and iowait), from /proc/stat. */
const machineBusy = () => {
  const [, user, nice, system, , , irq, softirq, steal] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
};
const exited = (child: ChildProcess) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once("exit", () => r())));

/** CPU use by each part between samples: where the two cores went. */
const cpuSamples: { at: string; seconds: number; byProcess: Record<string, number> }[] = [];
let lastCpu: { at: number; byProcess: Record<string, number> } | null = null;
async function sampleCpu(label: string) {
  // Keyed by pid too: a process started again since the last sample counts from its start.
  const byProcess: Record<string, number> = Object.fromEntries(procs.map((p) => [`${p.name}#${p.child.pid}`, cpuOf(p.child.pid)]));
  byProcess.postgres = postgresCpu();
  byProcess["machine (all processes)"] = machineBusy();
  const own = process.cpuUsage();
  byProcess["soak (load and receivers)"] = (own.user + own.system) / 1e6;
  if (lastCpu) {
    const seconds = (Date.now() - lastCpu.at) / 1000;
    const used = Object.fromEntries(
      Object.entries(byProcess).map(([key, cpu]) => [key.split("#")[0]!, Number(((cpu - (lastCpu!.byProcess[key] ?? 0)) / seconds).toFixed(2))]),
    );
    cpuSamples.push({ at: label, seconds: Math.round(seconds), byProcess: used });
    say(`cores used from the last sample to ${label}: ${JSON.stringify(used)}`);
  }
  lastCpu = { at: Date.now(), byProcess };
}

async function main() {
  startedAt = Date.now();
  say(`${minutes} min at ${RATE} alerts/s × ${ENDPOINTS} endpoints; building…`);
  const { pg, databaseUrl } = await startBenchDatabase("soak");
  Object.assign(process.env, { MON1TOR_DELIVERY_TIMEOUT_MS: "3000", MON1TOR_FAILURE_DISABLE_AFTER: "1000000", MON1TOR_API_KEY_RATE_PER_MINUTE: "1000000" });
  await new Promise<void>((resolve, reject) =>
    spawn("npm", ["run", "--silent", "build"], { stdio: "inherit", env: process.env }).on("exit", (code) => (code === 0 ? resolve() : reject(new Error("npm run build failed")))),
  );
  await startReceivers();
  const { db } = await import("../lib/db");
  const { createActiveEndpoint } = await import("../lib/testing/factories");
  const { createApiKey } = await import("../lib/api-keys/keys");
  const team = await db.team.create({ data: { name: "soak" } });
  const owner = await db.user.create({ data: { email: `soak-${Date.now()}@example.test`, name: "soak", passwordHash: "x" } });
  const { key } = await createApiKey({ user: { id: owner.id, name: "soak", email: owner.email }, team, role: "owner", ip: null }, { name: "soak", permissions: ["alerts:send"] });
  const endpointIds: string[] = [];
  for (const r of receivers) endpointIds.push((await createActiveEndpoint(team.id, `http://127.0.0.1:${r.port}/hook`)).endpoint.id);

  const webPorts = [await freePort(), await freePort()];
  const webs = webPorts.map((port, i) =>
    launch(`web ${i + 1}`, () =>
      spawn(process.execPath, ["node_modules/next/dist/bin/next", ...nextStartArgs(port)], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NEXTAUTH_URL: `http://127.0.0.1:${port}`, MON1TOR_METRICS_PUBLIC: "true" } }),
    ),
  );
  // Each worker serves its Prometheus metrics: the report reads its claim and recording times there.
  const workerMetricsPorts = [await freePort(), await freePort()];
  const workers = [1, 2].map((i) =>
    launch(`worker ${i}`, () =>
      spawn(process.execPath, ["dist/worker.mjs"], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, MON1TOR_METRICS_PORT: String(workerMetricsPorts[i - 1]), MON1TOR_METRICS_PUBLIC: "true" },
      }),
    ),
  );
  const ready = async (port: number) => {
    for (let i = 0; i < 200; i++) {
      const status = await fetch(`http://127.0.0.1:${port}/signin`).then((r) => r.status, () => 0);
      if (status === 200) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`web on ${port} never came up`);
  };
  await Promise.all(webPorts.map(ready));
  const metricsUrl = (p: Proc) => {
    const web = webs.indexOf(p);
    if (web >= 0) return `http://127.0.0.1:${webPorts[web]}/api/metrics`;
    const worker = workers.indexOf(p);
    return worker >= 0 ? `http://127.0.0.1:${workerMetricsPorts[worker]}/metrics` : undefined;
  };
  const memorySampler = setInterval(() => void sampleMemory(metricsUrl), 5_000);

  // ---- load: open loop, each alert retried with its Idempotency-Key until accepted ----
  let fault = "none";
  const apiErrorsByFault: Record<string, Record<string, number>> = {};
  const accepted = new Map<number, string>();
  const client = new Agent({ connections: 128, keepAliveTimeout: 10_000 });
  let offered = 0;
  let giveUp = false;
  const send = async (i: number) => {
    for (let attempt = 0; !giveUp; attempt++) {
      const port = webPorts[(i + attempt) % 2]!;
      let status: string;
      let retryAfterMs = 0;
      try {
        // A client with a bounded connection pool, as real alert sources have: Node's fetch opened
        // a connection per call in flight, thousands of them, and the load generator choked on them.
        const response = await request(`http://127.0.0.1:${port}/api/v1/alerts`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "idempotency-key": `soak-${i}` },
          body: JSON.stringify({ title: `soak ${i}`, severity: "critical" }),
          dispatcher: client,
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        const json = (await response.body.json().catch(() => ({}))) as { eventId?: string };
        if (response.statusCode === 202 && json.eventId) return void accepted.set(i, json.eventId);
        status = String(response.statusCode);
        retryAfterMs = Number(response.headers["retry-after"] ?? 0) * 1_000;
      } catch (error) {
        const code = (error as { code?: string }).code ?? "";
        status = /TIMEOUT/.test(code) ? "timeout" : code === "ECONNREFUSED" ? "connection refused" : code || "network error";
      }
      const bucket = (apiErrorsByFault[fault] ??= {});
      bucket[status] = (bucket[status] ?? 0) + 1;
      // As a well-behaved client retries: exponential backoff from 250 ms to 16 s with full jitter,
      // never sooner than Retry-After. A fixed short backoff turned an outage into a retry storm.
      const backoff = Math.random() * Math.min(16_000, 250 * 2 ** attempt);
      await new Promise((r) => setTimeout(r, Math.max(backoff, retryAfterMs)));
    }
  };
  // What PostgreSQL's busy sessions wait on, sampled every second while the load runs.
  const { pool: samplePool } = await import("../lib/db");
  const waits: Record<string, number> = {};
  let samples = 0;
  const sampler = setInterval(() => {
    samplePool
      .query<{ wait: string; n: number }>(
        `SELECT COALESCE(wait_event_type || ':' || wait_event, 'CPU') AS wait, count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid() AND query NOT ILIKE 'LISTEN%' GROUP BY 1`,
      )
      .then(({ rows }) => {
        samples += 1;
        for (const row of rows) waits[row.wait] = (waits[row.wait] ?? 0) + row.n;
      }, () => {});
  }, 1_000);
  const senders: Promise<void>[] = [];
  const loadStart = Date.now();
  const load = (async () => {
    for (let i = 0; Date.now() - loadStart < durationMs; i++) {
      const wait = loadStart + (i * 1000) / RATE - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      offered = i + 1;
      senders.push(send(i));
    }
  })();

  // ---- faults, spread over the run ----
  const at = (fraction: number) => new Promise((r) => setTimeout(r, Math.max(0, loadStart + durationMs * fraction - Date.now())));
  const during = async (name: string, work: () => Promise<void>) => {
    fault = name;
    lastFault = name;
    say(`fault: ${name}`);
    // A fault that does not finish (a process that does not stop) is reported, and the run goes on.
    // One that fails (PostgreSQL that does not start again) is reported too: the run's figures
    // are still worth having, and a rejection here would end the soak with no report at all.
    const limit = new Promise<"stuck">((resolve) => setTimeout(() => resolve("stuck"), DOWN_MS + 60_000));
    const outcome = await Promise.race([
      work().then(
        () => "done" as const,
        (error: unknown) => `failed: ${error instanceof Error ? error.message : String(error)}`,
      ),
      limit,
    ]);
    if (outcome === "stuck") {
      say(`fault: ${name} did not finish within ${(DOWN_MS + 60_000) / 1000} s`);
      stuckFaults.push(name);
    } else if (outcome !== "done") {
      say(`fault: ${name} ${outcome}`);
      stuckFaults.push(`${name}: ${outcome}`);
    }
    await new Promise((r) => setTimeout(r, 5_000));
    fault = "none";
  };
  const faults = (async () => {
    await at(0.1);
    await sampleCpu("warm-up");
    await at(0.15);
    await during("worker 1 kill -9", async () => {
      workers[0]!.expectExit = true;
      killedAt.push(Date.now());
      workers[0]!.child.kill("SIGKILL");
      await exited(workers[0]!.child);
      await new Promise((r) => setTimeout(r, 1_000));
      workers[0]!.child = workers[0]!.start();
      workers[0]!.expectExit = false;
    });
    await at(0.3);
    await during("web 2 restart", async () => {
      webs[1]!.expectExit = true;
      webs[1]!.child.kill("SIGTERM");
      await exited(webs[1]!.child);
      webs[1]!.child = webs[1]!.start();
      webs[1]!.expectExit = false;
      await ready(webPorts[1]!);
    });
    await at(0.45);
    await during("PostgreSQL clean restart", () => pg.restart());
    await at(0.55);
    await during(`receiver ${DOWN} down for ${DOWN_MS / 1000} s`, async () => {
      downUntil = Date.now() + DOWN_MS;
      await takeDown(receivers[DOWN]!);
      await new Promise((r) => setTimeout(r, DOWN_MS));
      await bringUp(receivers[DOWN]!);
    });
    await at(0.8);
    await during("PostgreSQL kill -9", () => {
      killedAt.push(Date.now());
      return pg.crash();
    });
  })();

  await load;
  await faults;
  clearInterval(sampler);
  await sampleCpu("load end");
  // Each worker's own view: how long its claims and recordings took (the metrics it exports).
  const workerMetrics = await Promise.all(
    workerMetricsPorts.map(async (port, i) => {
      const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => "");
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
      const mean = (name: string) => Number(((value(`${name}_sum`) / value(`${name}_count`)) * 1000).toFixed(1));
      return {
        worker: i + 1,
        claims: value("mon1tor_claim_duration_seconds_count"),
        claimMeanMs: mean("mon1tor_claim_duration_seconds"),
        recordBatches: value("mon1tor_record_batch_duration_seconds_count"),
        recordMeanMs: mean("mon1tor_record_batch_duration_seconds"),
        attempts: [...text.matchAll(/^mon1tor_delivery_attempts_total\{class="(\w+)"\} (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`).join(", "),
        note: "since its last start",
      };
    }),
  );
  say(`workers: ${JSON.stringify(workerMetrics)}`);
  const pgWaits = Object.fromEntries(Object.entries(waits).sort((a, b) => b[1] - a[1]).map(([wait, n]) => [wait, Number((n / Math.max(1, samples)).toFixed(2))]));
  say(`PostgreSQL sessions busy, on average, by what they wait on: ${JSON.stringify(pgWaits)}`);
  // Every alert retried until accepted; a client gives up after three more minutes.
  await Promise.race([Promise.all(senders), new Promise((r) => setTimeout(r, 180_000))]);
  giveUp = true;
  say(`load done: ${accepted.size} of ${offered} offered alerts accepted; draining…`);

  // ---- drain: wait until healthy endpoints have everything ----
  const eventIds = [...accepted.values()];
  const healthy = receivers.filter((_, i) => !FLAPPING.has(i) && i !== DOWN);
  const missingHealthy = () => healthy.reduce((n, r) => n + eventIds.filter((id) => !r.counts.has(id)).length, 0);
  const drainFrom = Date.now();
  while (missingHealthy() > 0 && Date.now() - drainFrom < DRAIN_MS) await new Promise((r) => setTimeout(r, 1_000));

  await sampleMemory(metricsUrl);
  clearInterval(memorySampler);
  const growth = memoryGrowth(durationMs * 0.1);
  const { pool } = await import("../lib/db");
  const pending = async (index: number) =>
    Number(
      (
        await pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM "Delivery" WHERE "endpointId" = $1 AND status IN ('pending', 'retrying')`,
          [endpointIds[index]],
        )
      ).rows[0]!.n,
    );
  const perEndpoint = await Promise.all(
    receivers.map(async (r, i) => ({
      endpoint: i,
      kind: FLAPPING.has(i) ? "flapping" : i === DOWN ? "down 2 min" : "healthy",
      receivedAtLeastOnce: eventIds.filter((id) => r.counts.has(id)).length,
      duplicates: [...r.counts.values()].reduce((n, c) => n + c - 1, 0),
      missing: eventIds.filter((id) => !r.counts.has(id)).length,
      stillScheduled: await pending(i),
    })),
  );
  const tables = (
    await pool.query<{ table: string; rows: string; dead: string; tableBytes: string; indexBytes: string }>(
      `SELECT relname AS table, n_live_tup AS rows, n_dead_tup AS dead, pg_table_size(relid) AS "tableBytes", pg_indexes_size(relid) AS "indexBytes"
       FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC LIMIT 8`,
    )
  ).rows.map((t) => ({ ...t, rows: Number(t.rows), dead: Number(t.dead), tableBytes: Number(t.tableBytes), indexBytes: Number(t.indexBytes) }));

  const healthyRows = perEndpoint.filter((e) => e.kind === "healthy");
  const result = {
    date: new Date().toISOString(),
    minutes,
    ratePerSecond: RATE,
    offered,
    accepted: accepted.size,
    /** Accepted alerts a healthy endpoint neither received nor still has queued (pending or retrying) at the end. */
    lost: healthyRows.reduce((n, e) => n + Math.max(0, e.missing - e.stillScheduled), 0),
    /** Accepted alerts still queued for a healthy endpoint when the drain window closed: behind, not lost. */
    queuedAtEndHealthy: healthyRows.reduce((n, e) => n + Math.min(e.missing, e.stillScheduled), 0),
    duplicatesHealthy: healthyRows.reduce((n, e) => n + e.duplicates, 0),
    /** Of those: first received before a kill -9 (a worker's, or PostgreSQL's), again after it: sent, and not yet durably recorded when it died. */
    duplicatesHealthyAcrossKill: duplicatesAcrossKill,
    /** Cores used by each process between the warm-up and the end of the load (a process started again meanwhile, PostgreSQL after its crash too, counts from its start), and by the whole machine. */
    coresUsed: cpuSamples,
    /** PostgreSQL's active sessions during the load, on average, by wait event ("CPU" when none). */
    pgWaits,
    /** Each worker's claim and recording times, from its own metrics (since its last start). */
    workerMetrics,
    /** Duplicates to healthy endpoints, by the fault that began last before they arrived. */
    duplicatesAfterFault,
    flappingDeliveredAtLeastOnce: perEndpoint.filter((e) => e.kind !== "healthy").map((e) => ({ endpoint: e.endpoint, kind: e.kind, ratio: Number((e.receivedAtLeastOnce / eventIds.length).toFixed(4)), stillScheduled: e.stillScheduled, missing: e.missing })),
    apiErrorsByFault,
    rssGrowth: growth,
    stuckFaults,
    unexpectedExits: Object.fromEntries(procs.map((p) => [p.name, p.unexpectedExits])),
    logs: logDir,
    perEndpoint,
    tables,
  };
  fs.mkdirSync("bench/results", { recursive: true });
  fs.writeFileSync("bench/results/soak.json", `${JSON.stringify(result, null, 2)}\n`);
  say(`accepted ${result.accepted}, lost ${result.lost}, still queued for healthy endpoints ${result.queuedAtEndHealthy}, duplicates to healthy endpoints ${result.duplicatesHealthy}`);
  console.log(JSON.stringify({ apiErrorsByFault, rssGrowth: growth.map((g) => `${g.process}: ${(g.growth * 100).toFixed(1)}%`), perEndpoint }, null, 2));

  finishing = true;
  for (const p of procs) p.child.kill("SIGTERM");
  await Promise.all(procs.map((p) => exited(p.child)));
  for (const r of receivers) r.server.closeAllConnections();
  await pool.end().catch(() => {});
  await pg.stop();
  process.exit(result.lost === 0 && result.duplicatesHealthy === result.duplicatesHealthyAcrossKill ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  for (const p of procs) p.child.kill("SIGKILL");
  process.exit(1);
});
