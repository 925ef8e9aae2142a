// bench phases (4) to (7), through the real API on `next start` with one worker beside it, as
// `npm start` runs them: API call → receipt latency, next start's own floor and sustained ingest,
// overload, and batch ingest.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import { Agent, request } from "undici";
import { freePort } from "../../scripts/lib/embedded-postgres";
import { nextStartArgs } from "../../scripts/lib/next-start";
import { postgresPids } from "../cpu";
import { ask, cpuSplit, ENDPOINTS, fmt, LATENCY_HIGH_RATE, LATENCY_RATE, say, type BenchContext } from "../lib";
import { batchIngest, overload, type StormContext } from "../storm";

export async function throughTheApi(ctx: BenchContext) {
  const { only, db, base, receiver, stats, reset, results, report, cleanup, endpoints, settle, printStatementStats, sampleWaits } = ctx;
  // (4) and (5) go through the real API on `next start`, with one worker beside it.
  /**
   * The bench measures what the machine takes in, not the per-key quota: the default, 120,000 a
   * minute (2,000 alerts/s), refused the batch phase's alerts past it, which then measured that
   * quota (1,986/s) and not the ingest.
   */
  const KEY_RATE_PER_MINUTE = "100000000";
  if (only.has("ingest") || only.has("latency") || only.has("overload") || only.has("batch")) {
    const owner = await db.user.create({ data: { email: `bench-${Date.now()}@example.test`, name: "bench", passwordHash: "x" } });
    const { createApiKey } = await import("../../lib/api-keys/keys");
    const keyFor = async (team: { id: string; name: string }) =>
      (await createApiKey({ user: { id: owner.id, name: "bench", email: owner.email }, team, role: "owner", ip: null }, { name: "bench", permissions: ["alerts:send"] })).key;
    say("\n    building for next start and the worker…");
    // `npm run build`: the app, and the worker bundled for plain node, as `npm start` runs them.
    await new Promise<void>((resolve, reject) =>
      spawn("npm", ["run", "--silent", "build"], { stdio: "ignore", env: process.env }).on("exit", (code) => (code === 0 ? resolve() : reject(new Error("npm run build failed")))),
    );
    const webPort = await freePort();
    const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    const web = spawn(process.execPath, [...profile, "node_modules/next/dist/bin/next", ...nextStartArgs(webPort)], { stdio: "ignore", env: { ...process.env, NEXTAUTH_URL: `http://127.0.0.1:${webPort}`, MON1TOR_API_KEY_RATE_PER_MINUTE: process.env.MON1TOR_API_KEY_RATE_PER_MINUTE ?? KEY_RATE_PER_MINUTE } });
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
    // BENCH_LATENCY_HIGH_RATE=0 leaves the second out.
    for (const perSecond of only.has("latency") ? [LATENCY_RATE, LATENCY_HIGH_RATE].filter((rate) => rate > 0) : []) {
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
      // What the whole life of these deliveries writes to the WAL (docs/capacity.md): ingest, claim, recording.
      const [walBefore] = await db.$queryRawUnsafe<{ lsn: string }[]>("SELECT pg_current_wal_lsn()::text AS lsn");
      const split = await cpuSplit(
        apiProcesses,
        (seconds + warmSeconds) * perSecond,
        () => sampleWaits(() => load(key, perSecond, seconds, "latency", ENDPOINTS, warmSeconds)),
      );
      const run = split.value;
      const expected = run.sent.size * ENDPOINTS;
      const s = await waitForDeliveries(expected, 120_000);
      if (!high) {
        // The worker records outcomes in batches after they arrive: a moment for the last one.
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        const [wal] = await db.$queryRawUnsafe<{ bytes: number }[]>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8 AS bytes", walBefore!.lsn);
        const warmUpDeliveries = (warmSeconds * perSecond + 20) * ENDPOINTS;
        report.walBytesPerDelivery = Math.round(wal!.bytes / (expected + warmUpDeliveries));
        say(`    WAL written: ${fmt(wal!.bytes / 1e6, 1)} MB, ${fmt(report.walBytesPerDelivery as number)} bytes per delivery (ingest, claim and recording; the warm-up's included)`);
        if (process.env.BENCH_PG_STATS) {
          // Which records those were and where they went (pg_walinspect, shipped with PostgreSQL), per delivery.
          await db.$executeRawUnsafe("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
          const per = expected + warmUpDeliveries;
          const show = (rows: { what: string; records: number; bytes: number }[]) => {
            for (const row of rows) say(`      ${fmt(row.records / per, 2).padStart(7)}  ${fmt(row.bytes / per).padStart(6)}  ${row.what}`);
          };
          say("      records  bytes  per delivery, by kind of record");
          show(await db.$queryRawUnsafe(
            `SELECT "resource_manager/record_type" AS what, count::float8 AS records, combined_size::float8 AS bytes
             FROM pg_get_wal_stats($1::pg_lsn, pg_current_wal_lsn(), true) WHERE count > 0 ORDER BY combined_size DESC LIMIT 12`,
            walBefore!.lsn,
          ));
          say("      records  bytes  per delivery, by relation (block data and full-page images only)");
          show(await db.$queryRawUnsafe(
            `SELECT coalesce(pg_filenode_relation(0, relfilenode)::text, relfilenode::text) || ' ' || resource_manager || '/' || record_type AS what,
                    count(*)::float8 AS records, sum(block_data_length + block_fpi_length)::float8 AS bytes
             FROM pg_get_wal_block_info($1::pg_lsn, pg_current_wal_lsn()) GROUP BY 1 ORDER BY 2 DESC LIMIT 24`,
            walBefore!.lsn,
          ));
        }
      }
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
    if (only.has("latency")) {
      // Storage per delivery (docs/capacity.md): every table a delivery's life writes, over the rows
      // the whole run left (each alert to 10 endpoints, most deliveries one attempt).
      await db.$executeRawUnsafe(`VACUUM ANALYZE "Delivery", "DeliveryAttempt", "Event", "Alert"`);
      const sizes = await db.$queryRawUnsafe<{ table: string; bytes: number; rows: number }[]>(
        // A partitioned table (the history's) is the sum of its partitions.
        `SELECT c.relname AS table, sum(pg_total_relation_size(t.relid))::float8 AS bytes,
                sum(GREATEST((SELECT reltuples FROM pg_class WHERE oid = t.relid), 0))::float8 AS rows
         FROM pg_class c CROSS JOIN LATERAL pg_partition_tree(c.oid) t
         WHERE c.relname IN ('Delivery', 'DeliveryAttempt', 'Event', 'Alert', 'EndpointHealthHour') AND c.relkind IN ('r', 'p') AND t.isleaf
         GROUP BY c.relname`,
      );
      const deliveries = sizes.find((row) => row.table === "Delivery")?.rows ?? 0;
      const total = sizes.reduce((sum, row) => sum + row.bytes, 0);
      report.storage = {
        deliveries,
        bytesPerDelivery: deliveries > 0 ? Math.round(total / deliveries) : null,
        tables: Object.fromEntries(sizes.map((row) => [row.table, { megabytes: Math.round(row.bytes / 1e5) / 10, rows: row.rows }])),
      };
      say(`    storage: ${fmt(total / 1e6, 1)} MB for ${fmt(deliveries)} deliveries and their attempts, events and alerts = ${fmt(total / Math.max(1, deliveries))} bytes per delivery`);
      for (const row of sizes) say(`      ${row.table.padEnd(20)} ${fmt(row.bytes / 1e6, 1).padStart(8)} MB  ${fmt(row.rows).padStart(9)} rows`);
    }
    if (only.has("ingest")) {
      // next start's floor: a route Next serves answering 401 before any database work, 32
      // requests in flight for 10 s. The alert calls themselves are served in front of Next
      // (lib/api/front.ts), so the floor is taken on the other POST route with an API key, the
      // relay's, through the same key check: what any route of the app costs under Next.
      const floorSeconds = Number(process.env.BENCH_FLOOR_SECONDS ?? 10);
      const floorUrl = `http://127.0.0.1:${webPort}/api/v1/relays/floor/responses`;
      say(`\n(5a) next start's floor: POST /api/v1/relays/<id>/responses without a key (401 from Next's route, no database work), 32 in flight for ${floorSeconds} s`);
      const unauthenticated = async () => {
        const response = await request(floorUrl, { method: "POST", headers: { "content-type": "application/json" }, body: "{}", dispatcher: agent });
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
      // Offered at least the floor's rate (rounded up to a hundred), never less than 1,000/s: at a
      // fixed 1,000/s, a run whose floor was over 1,250/s read under 0.8× the floor with every
      // alert accepted and the API at p99 21 ms. The offer, not the ingest, was what it measured.
      const perSecond = Number(process.env.BENCH_INGEST_RATE ?? Math.max(1000, Math.ceil(floorRate / 100) * 100));
      say(`\n(5) ingest: ${fmt(perSecond)} alerts/s (the floor's rate, at least 1,000) for ${seconds} s through POST /api/v1/alerts on next start, one active endpoint`);
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
      const line = (result: Awaited<ReturnType<typeof overload>>) =>
        `    longest call ${fmt(result.maxCallMs)} ms (${result.callsOver2s} over 2 s${result.over2s ? `, started ${result.over2s.firstStartedS}-${result.over2s.lastStartedS} s into the offer, answered ${JSON.stringify(result.over2s.byStatus)}; of those, ${result.over2s.waitedOver1sForConnection} waited over 1 s in the client for a connection (longest ${fmt(result.over2s.longestConnectionWaitMs)} ms) and ${result.over2s.waitedOver1sAfterSending} over 1 s for the answer once sent (longest ${fmt(result.over2s.longestAfterSendingMs)} ms); the load generator's event loop stalled up to ${fmt(result.over2s.generatorLoopDelayMaxMs)} ms; ${fmt(result.over2s.connectionsOpened)} connections opened` : ""}); ${fmt(result.accepted)} of ${fmt(result.offered)} accepted, ${result.lost} lost, ${result.duplicates} duplicates; ${fmt(result.refusedCalls)} calls answered 503; all accepted and delivered ${result.secondsToDrain} s after the offer ended`;
      const overloadKey = await keyFor(team);
      const result = await sampleWaits(() => overload({ ...storm, key: overloadKey }, perSecond, seconds));
      report.overload = result;
      say(line(result));
      await printStatementStats();
      await reset();
      // Served in front of Next, a web process takes more than 1,000 alerts/s: the same again
      // past what the machine can take, so that the refusals (503, Retry-After) are measured too.
      const beyond = Number(process.env.BENCH_OVERLOAD_BEYOND_RATE ?? 4000);
      const beyondSeconds = Number(process.env.BENCH_OVERLOAD_BEYOND_SECONDS ?? 30);
      if (beyond > 0) {
        say(`\n(6b) overload beyond capacity: ${fmt(beyond)} alerts/s offered for ${beyondSeconds} s, retried the same way`);
        const { team: beyondTeam } = await endpoints("ovb", 1);
        await settle();
        const past = await overload({ ...storm, key: await keyFor(beyondTeam) }, beyond, beyondSeconds);
        report.overloadBeyond = past;
        say(line(past));
        await reset();
      }
    }
    if (only.has("batch")) {
      const seconds = Number(process.env.BENCH_BATCH_SECONDS ?? 60);
      say(`\n(7) batch ingest: 100 alerts per call, 4 callers in a closed loop for ${seconds} s, one active endpoint`);
      const { team } = await endpoints("bat", 1);
      await settle();
      const key = await keyFor(team);
      await printStatementStats();
      const split = await cpuSplit(apiProcesses, (value) => value.accepted, () => sampleWaits(() => batchIngest({ ...storm, key }, 100, 4, seconds)));
      const result = split.value;
      report.batchIngest = { ...result, cpuPerAlertUs: split.perUnitUs };
      say(`    ${fmt(result.alertsPerSecond)} alerts/s (${fmt(result.calls)} calls), ${result.lost} lost, ${result.deliveriesLost} deliveries lost; not accepted: ${JSON.stringify(result.notAccepted)}`);
      say(split.line.replace("per delivery", "per alert"));
      await printStatementStats();
      await reset();
    }

    await agent.close();
    web.kill("SIGINT");
    worker.kill();
    await new Promise((resolve) => web.once("exit", resolve));
  }
}
