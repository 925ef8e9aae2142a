// `npm run bench:history`: what dispatch, the claim, the delivery log, the team overview and
// retention cost as the history grows: 0, 1 million and 10 million finished deliveries (with their
// attempts and events) spread over 30 days and 200 endpoints, loaded with generate_series into the
// day partitions, on a fresh embedded PostgreSQL. Writes bench/results/history.json.
//   BENCH_HISTORY_SIZES=0,1000000,10000000  BENCH_HISTORY_DISPATCH=20000  BENCH_HISTORY_RETENTION_DAY=1000000
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { cpuSeconds, postgresPids } from "./cpu";
import { startBenchDatabase } from "./database";
import { enqueue } from "./lib";

const SIZES = (process.env.BENCH_HISTORY_SIZES ?? "0,1000000,10000000").split(",").map(Number);
const DISPATCH = Number(process.env.BENCH_HISTORY_DISPATCH ?? 20_000);
/** Deliveries in the day that retention drops: topped up to this before the drop. */
const RETENTION_DAY = Number(process.env.BENCH_HISTORY_RETENTION_DAY ?? 1_000_000);
const TEAMS = 20;
const ENDPOINTS_PER_TEAM = 10;
const DAYS = 30;
const RUNS = 20;
const DAY = 24 * 3600 * 1000;
const say = (line: string) => console.log(line);
const fmt = (n: number, digits = 0) => n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function timed(work: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(RUNS * 0.5)]!, p95: times[Math.floor(RUNS * 0.95)]! };
}

async function main() {
  say(`mon1tor history bench · ${new Date().toISOString().slice(0, 10)} · ${os.cpus().length} × ${os.cpus()[0]?.model.trim()} · Node ${process.version}`);
  const { pg } = await startBenchDatabase("bench-history");
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  try {
    const { db, pool } = await import("../lib/db");
    const { createActiveEndpoint } = await import("../lib/testing/factories");
    const { ingestAlert } = await import("../lib/alerts/ingest");
    const { Dispatcher } = await import("../lib/webhooks/delivery/dispatch");
    const { claimDeliveries } = await import("../lib/webhooks/delivery/claim");
    const { listDeliveries, listEndpoints, teamHealth } = await import("../lib/webhooks/endpoints/queries");
    const { ensureHistoryPartitions, historyPartitions, purgeHistory } = await import("../lib/webhooks/delivery/retention");

    // A database that has run partitioned for a month: no pre-partitioning history, a partition per day.
    for (const table of ["DeliveryAttempt", "Delivery", "Event"]) {
      await pool.query(`ALTER TABLE "${table}" DETACH PARTITION "${table}_legacy"`);
      await pool.query(`DROP TABLE "${table}_legacy"`);
    }
    for (let day = DAYS + 1; day >= 0; day -= 5) await ensureHistoryPartitions(pool, new Date(Date.now() - day * DAY));

    const teams: { id: string; name: string; endpoints: string[] }[] = [];
    for (let t = 0; t < TEAMS; t++) {
      const team = await db.team.create({ data: { name: `history ${t}` } });
      const endpoints: string[] = [];
      for (let e = 0; e < ENDPOINTS_PER_TEAM; e++) endpoints.push((await createActiveEndpoint(team.id, `https://receiver-${t}-${e}.example.com/webhook`)).endpoint.id);
      teams.push({ ...team, endpoints });
    }
    // Dispatch goes to a team of its own whose endpoints answer on this machine.
    const live = await db.team.create({ data: { name: "live" } });
    for (let e = 0; e < 10; e++) await createActiveEndpoint(live.id, `${receiverUrl}/live/${e}`);
    const probeTeam = teams[0]!;
    const probeEndpoint = probeTeam.endpoints[0]!;

    /**
     * `count` finished deliveries over `days` days ending at `endsAt` (epoch ms), ids numbered from
     * `from`: one event per 10 deliveries (to its team's 10 endpoints, with a body of a realistic
     * size), one attempt each and a second for one in ten.
     */
    const loadHistory = async (from: number, count: number, endsAt: number, days: number) => {
      const events = Math.round(count / ENDPOINTS_PER_TEAM);
      await pool.query(
        `INSERT INTO "Event" (id, "teamId", type, body, "createdAt")
         SELECT 'evt_hist_' || ($1::bigint + g), ($2::text[])[1 + g % $3], 'alert.triggered', repeat('x', 600),
                ($5::timestamptz AT TIME ZONE 'UTC') - interval '1 millisecond' - (g::double precision / $4) * ($6::int * interval '1 day')
         FROM generate_series(0, $4::bigint - 1) g`,
        [from, teams.map((t) => t.id), TEAMS, events, new Date(endsAt).toISOString(), days],
      );
      await pool.query(
        `INSERT INTO "Delivery" (id, "teamId", "endpointId", "eventId", status, attempts, "createdAt", "updatedAt", "deliveredAt", "lastStatusCode", "lastLatencyMs")
         SELECT 'msg_hist_' || ev.n || '_' || w.n, ev."teamId", w.id, ev.id,
                CASE WHEN w.n = 0 AND ev.n % 10 = 0 THEN 'failed'::"DeliveryStatus" ELSE 'delivered' END, 1,
                ev."createdAt", ev."createdAt", ev."createdAt", 200, 20 + (ev.n % 200)::int
         FROM (SELECT *, CASE WHEN id LIKE 'evt\_hist\_%' THEN substr(id, 10)::bigint END AS n FROM "Event") ev CROSS JOIN LATERAL (
           SELECT e.id, (row_number() OVER (ORDER BY e.id)) - 1 AS n FROM "WebhookEndpoint" e WHERE e."teamId" = ev."teamId"
         ) w
         WHERE ev.n >= $1`,
        [from],
      );
      await pool.query(
        `INSERT INTO "DeliveryAttempt" ("deliveryId", number, "startedAt", "durationMs", "statusCode")
         SELECT d.id, n, d."createdAt" + (n - 1) * interval '1 second', d."lastLatencyMs", CASE WHEN n = 1 AND d.status = 'failed' THEN 500 ELSE 200 END
         FROM (SELECT *, CASE WHEN id LIKE 'msg\_hist\_%' THEN split_part(substr(id, 10), '_', 1)::bigint END AS k FROM "Delivery") d
           CROSS JOIN generate_series(1, 2) n
         WHERE d.k >= $1 AND (n = 1 OR d.k % 10 = 0)`,
        [from],
      );
    };

    /** The history's first day: it ends at today's midnight (UTC). */
    const firstDay = new Date(Math.floor(Date.now() / DAY) * DAY - DAYS * DAY);
    let loaded = 0;
    const results: Record<string, unknown>[] = [];
    for (const size of SIZES) {
      if (size > loaded) {
        const started = performance.now();
        await loadHistory(loaded, size - loaded, firstDay.getTime() + DAYS * DAY, DAYS);
        await pool.query("VACUUM ANALYZE");
        say(`loaded ${fmt(size - loaded)} deliveries (${fmt(size)} in all) in ${fmt((performance.now() - started) / 1000)} s`);
        loaded = size;
      }

      // Dispatch: DISPATCH deliveries to 10 endpoints on this machine, one in-process worker,
      // queued through the storm path as the main bench's dispatch phase queues them.
      await enqueue(live, Math.ceil(DISPATCH / 10));
      const pgPids = postgresPids();
      const cpuBefore = cpuSeconds(pgPids);
      const started = performance.now();
      const stats = await new Dispatcher({ pool, timeoutMs: 15_000 }).drain();
      const dispatchMs = performance.now() - started;
      const pgCpuUs = ((cpuSeconds(pgPids) - cpuBefore) / stats.attempted) * 1e6;
      const dispatchRate = (stats.attempted / dispatchMs) * 1000;

      // The claim statement alone, on a queue of 5,000 (leased as claimed; the bench's database is thrown away).
      for (let i = 0; i < 500; i += 100) {
        await db.$transaction(async (tx) => {
          for (let j = i; j < i + 100; j++) await ingestAlert(tx, live, { title: `claim ${j}`, severity: "info", status: "triggered" });
        });
      }
      const claim = await timed(() => claimDeliveries(pool, { now: null, limit: 250, leaseMs: 60_000, inFlight: new Map(), perEndpoint: 64 }));
      // Finished, so that the next size's dispatch does not read past them while their leases run.
      await pool.query(`UPDATE "Delivery" SET status = 'delivered', "nextAttemptAt" = NULL, "leaseExpiresAt" = NULL WHERE "teamId" = $1 AND "nextAttemptAt" IS NOT NULL`, [live.id]);

      // The endpoint page's delivery log: the first page and one 15 days deep.
      const deep = (
        await pool.query<{ id: string }>(
          `SELECT id FROM "Delivery" WHERE "endpointId" = $1 AND "createdAt" < (now() AT TIME ZONE 'UTC') - interval '15 days' ORDER BY "createdAt" DESC LIMIT 1`,
          [probeEndpoint],
        )
      ).rows[0]?.id;
      const firstPage = await timed(() => listDeliveries(probeTeam.id, probeEndpoint, {}));
      const deepPage = await timed(() => listDeliveries(probeTeam.id, probeEndpoint, deep ? { before: deep } : {}));
      const failing = await timed(() => listDeliveries(probeTeam.id, probeEndpoint, { status: "failing" }));
      const overview = await timed(() => Promise.all([listEndpoints(probeTeam.id), teamHealth(probeTeam.id)]));

      const sizes = await pool.query<{ table: string; rows: string; bytes: string; indexBytes: string; partitions: number }>(
        `SELECT p.relname AS table, sum(c.reltuples)::bigint AS rows, sum(pg_table_size(c.oid))::bigint AS bytes,
                sum(pg_indexes_size(c.oid))::bigint AS "indexBytes", count(*)::int AS partitions
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
         WHERE p.relname IN ('Event', 'Delivery', 'DeliveryAttempt') GROUP BY 1 ORDER BY 1`,
      );
      const result = {
        size,
        dispatchPerSecond: Math.round(dispatchRate),
        postgresCpuUsPerDelivery: Math.round(pgCpuUs),
        claimMs: claim,
        logFirstPageMs: firstPage,
        logDeepPageMs: deepPage,
        logFailingMs: failing,
        overviewMs: overview,
        tables: sizes.rows.map((r) => ({ ...r, rows: Number(r.rows), bytes: Number(r.bytes), indexBytes: Number(r.indexBytes) })),
      };
      results.push(result);
      say(
        `${fmt(size).padStart(10)} rows: dispatch ${fmt(dispatchRate)}/s (PostgreSQL ${fmt(pgCpuUs)} µs CPU per delivery) · claim p50 ${fmt(claim.p50, 1)} ms · ` +
          `log first page p50/p95 ${fmt(firstPage.p50, 1)}/${fmt(firstPage.p95, 1)} ms, 15 days deep ${fmt(deepPage.p50, 1)}/${fmt(deepPage.p95, 1)} ms, failing ${fmt(failing.p50, 1)}/${fmt(failing.p95, 1)} ms · overview ${fmt(overview.p50, 1)}/${fmt(overview.p95, 1)} ms`,
      );
      for (const t of result.tables) say(`    ${t.table.padEnd(16)} ${fmt(t.rows).padStart(12)} rows in ${t.partitions} partitions · ${fmt(t.bytes / 2 ** 20)} MiB + ${fmt(t.indexBytes / 2 ** 20)} MiB of indexes`);
    }

    // Retention of one day at the largest size, while ingest and dispatch-like writes run: the
    // longest any of them waited is what the drop blocked.
    // The data's oldest day is 30 days back; the empty days before it go first, unmeasured.
    await purgeHistory(pool, DAYS, new Date(firstDay.getTime() + DAYS * DAY + 60_000));
    const oldest = (await historyPartitions(pool)).find((p) => p.table === "Delivery" && p.from?.getTime() === firstDay.getTime())!;
    let dayRows = Number((await pool.query(`SELECT count(*) FROM "${oldest.name}"`)).rows[0].count);
    if (dayRows < RETENTION_DAY) {
      // The day retention drops holds RETENTION_DAY deliveries (with their attempts and events).
      await loadHistory(1e9, RETENTION_DAY - dayRows, firstDay.getTime() + DAY, 1);
      await pool.query(`VACUUM ANALYZE "${oldest.name}"`);
      dayRows = Number((await pool.query(`SELECT count(*) FROM "${oldest.name}"`)).rows[0].count);
    }
    let probing = true;
    let worstProbeMs = 0;
    let probes = 0;
    const probe = (async () => {
      while (probing) {
        const started = performance.now();
        await db.$transaction((tx) => ingestAlert(tx, live, { title: "probe", severity: "info", status: "triggered" }));
        await claimDeliveries(pool, { now: null, limit: 10, leaseMs: 60_000, inFlight: new Map(), perEndpoint: 64 });
        worstProbeMs = Math.max(worstProbeMs, performance.now() - started);
        probes += 1;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const baselineWorst = worstProbeMs;
    worstProbeMs = 0;
    // The window that makes exactly the oldest day expire.
    const now = new Date(oldest.to.getTime() + DAYS * DAY + 60_000);
    const started = performance.now();
    const purged = await purgeHistory(pool, DAYS, now);
    const retentionDayMs = performance.now() - started;
    const duringWorst = worstProbeMs;
    probing = false;
    await probe;
    for (const step of purged.dropped) say(`    ${step.name}: detached in ${fmt(step.detachMs)} ms, dropped in ${fmt(step.dropMs)} ms`);
    say(
      `retention: dropped ${purged.daysDropped} partitions (the oldest day, ${fmt(dayRows)} deliveries) in ${fmt(retentionDayMs)} ms; ` +
        `ingest + claim probes (${probes}) waited at most ${fmt(duringWorst, 1)} ms during it, ${fmt(baselineWorst, 1)} ms in the second before`,
    );
    const bloat = await pool.query<{ dead: string }>(`SELECT COALESCE(sum(n_dead_tup), 0)::bigint AS dead FROM pg_stat_user_tables WHERE relname LIKE 'Delivery%' OR relname LIKE 'Event%'`);

    const at = (size: number) => results.find((r) => r.size === size) as { dispatchPerSecond: number; logFirstPageMs: { p95: number }; logDeepPageMs: { p95: number }; logFailingMs: { p95: number } } | undefined;
    const largest = at(Math.max(...SIZES))!;
    const summary = {
      date: new Date().toISOString(),
      sizes: SIZES,
      dispatchRatio10M: at(10_000_000) && at(0) ? Number((at(10_000_000)!.dispatchPerSecond / at(0)!.dispatchPerSecond).toFixed(2)) : null,
      dispatchRatioLargest: at(0) ? Number((largest.dispatchPerSecond / at(0)!.dispatchPerSecond).toFixed(2)) : null,
      logPageP95Ms: Number(Math.max(largest.logFirstPageMs.p95, largest.logDeepPageMs.p95, largest.logFailingMs.p95).toFixed(1)),
      retentionDayMs: Math.round(retentionDayMs),
      retentionDayDeliveries: dayRows,
      retentionSteps: purged.dropped,
      retentionMaxLockMs: Number(duringWorst.toFixed(1)),
      retentionBaselineProbeMs: Number(baselineWorst.toFixed(1)),
      deadTuplesAfter: Number(bloat.rows[0]!.dead),
      results,
    };
    fs.mkdirSync("bench/results", { recursive: true });
    fs.writeFileSync("bench/results/history.json", `${JSON.stringify(summary, null, 2)}\n`);
    say(`\ndispatch at ${fmt(Math.max(...SIZES))} ÷ at 0: ${summary.dispatchRatioLargest} (≥ 0.9) · worst log page p95 ${summary.logPageP95Ms} ms (< 50) · one day dropped in ${summary.retentionDayMs} ms (< 1,000), probes waited at most ${summary.retentionMaxLockMs} ms (< 100)`);
    say("wrote bench/results/history.json");
    await db.$disconnect();
    await pool.end();
  } finally {
    receiver.close();
    await pg.stop();
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
