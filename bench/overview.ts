// `npm run bench:overview`: what the Webhooks page's team overview costs with 50 endpoints
// and a million delivery rows (plus a million attempts and 7 days of hourly health rows),
// on a fresh embedded PostgreSQL. Prints the page's two queries' times and the plan of the
// health query, and, for contrast, the same numbers computed from the attempt log.
//   BENCH_OVERVIEW_DELIVERIES=1000000  BENCH_OVERVIEW_ENDPOINTS=50
import os from "node:os";
import { startBenchDatabase } from "./database";

const DELIVERIES = Number(process.env.BENCH_OVERVIEW_DELIVERIES ?? 1_000_000);
const ENDPOINTS = Number(process.env.BENCH_OVERVIEW_ENDPOINTS ?? 50);
const RUNS = 20;
const say = (line: string) => console.log(line);

async function timed<T>(work: () => Promise<T>): Promise<{ p50: number; max: number; value: T }> {
  const times: number[] = [];
  let value!: T;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    value = await work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(RUNS / 2)]!, max: times.at(-1)!, value };
}

async function main() {
  say(`mon1tor team overview bench · ${new Date().toISOString().slice(0, 10)} · ${os.cpus().length} × ${os.cpus()[0]?.model.trim()} · Node ${process.version}`);
  const { pg } = await startBenchDatabase("bench-overview");
  try {
    const { db, pool } = await import("../lib/db");
    const { createActiveEndpoint } = await import("../lib/testing/factories");
    const { listEndpoints, teamHealth, TEAM_HEALTH_SQL } = await import("../lib/webhooks/endpoints/queries");
    const { BUCKET_COUNT } = await import("../lib/webhooks/endpoints/health");

    const team = await db.team.create({ data: { name: "overview" } });
    const other = await db.team.create({ data: { name: "neighbours" } });
    for (let i = 0; i < ENDPOINTS; i++) {
      await createActiveEndpoint(team.id, `https://receiver-${i}.example.com/webhook`);
      await createActiveEndpoint(other.id, `https://neighbour-${i}.example.com/webhook`);
    }
    const started = performance.now();
    const events = Math.ceil(DELIVERIES / ENDPOINTS);
    // Half the rows belong to a neighbouring team, spread over the last 7 days.
    await pool.query(
      `INSERT INTO "Event" (id, "teamId", type, body, "createdAt")
       SELECT 'evt_' || t.id || '_' || g, t.id, 'alert.triggered', '{}', (now() AT TIME ZONE 'UTC') - (g % 168) * interval '1 hour'
       FROM generate_series(1, $1::int) g CROSS JOIN (VALUES ($2), ($3)) AS t(id)`,
      [events / 2, team.id, other.id],
    );
    await pool.query(
      `INSERT INTO "Delivery" (id, "teamId", "endpointId", "eventId", status, attempts, "createdAt", "updatedAt", "deliveredAt", "lastStatusCode", "lastLatencyMs")
       SELECT 'dlv_' || e.id || '_' || w.id, e."teamId", w.id, e.id, 'delivered', 1, e."createdAt", e."createdAt", e."createdAt", 200, 20 + (random() * 200)::int
       FROM "Event" e JOIN "WebhookEndpoint" w ON w."teamId" = e."teamId"`,
    );
    await pool.query(
      `INSERT INTO "DeliveryAttempt" ("deliveryId", number, "startedAt", "durationMs", "statusCode")
       SELECT d.id, 1, d."createdAt", d."lastLatencyMs", CASE WHEN random() < 0.02 THEN 500 ELSE 200 END FROM "Delivery" d`,
    );
    await pool.query(
      `INSERT INTO "EndpointHealthHour" ("endpointId", hour, attempts, succeeded, latency)
       SELECT w.id, date_trunc('hour', now() AT TIME ZONE 'UTC') - h * interval '1 hour', 60, 59,
              ARRAY(SELECT CASE WHEN b BETWEEN 17 AND 24 THEN 7 ELSE 0 END FROM generate_series(0, $1::int - 1) b ORDER BY b)
       FROM "WebhookEndpoint" w CROSS JOIN generate_series(0, 167) h`,
      [BUCKET_COUNT],
    );
    await pool.query("VACUUM ANALYZE");
    const counts = await pool.query<{ deliveries: string; attempts: string; hours: string }>(
      `SELECT (SELECT count(*) FROM "Delivery") AS deliveries, (SELECT count(*) FROM "DeliveryAttempt") AS attempts, (SELECT count(*) FROM "EndpointHealthHour") AS hours`,
    );
    const c = counts.rows[0]!;
    say(`seeded ${Number(c.deliveries).toLocaleString("en")} deliveries, ${Number(c.attempts).toLocaleString("en")} attempts, ${Number(c.hours).toLocaleString("en")} hourly health rows, ${ENDPOINTS * 2} endpoints in two teams (${((performance.now() - started) / 1000).toFixed(0)} s)`);

    const list = await timed(() => listEndpoints(team.id));
    const health = await timed(() => teamHealth(team.id));
    const page = await timed(() => Promise.all([listEndpoints(team.id), teamHealth(team.id)]));
    say(`\nWebhooks page queries, ${RUNS} runs each (p50 / max):`);
    say(`  listEndpoints   ${list.p50.toFixed(1)} / ${list.max.toFixed(1)} ms   (${list.value.length} endpoints)`);
    say(`  teamHealth      ${health.p50.toFixed(1)} / ${health.max.toFixed(1)} ms   (${health.value.size} endpoints × 24 hourly rows)`);
    say(`  both, in parallel as the page runs them   ${page.p50.toFixed(1)} / ${page.max.toFixed(1)} ms`);

    const plan = await pool.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) ${TEAM_HEALTH_SQL}`, [
      team.id,
      new Date(Math.floor(Date.now() / 3600_000) * 3600_000 - 23 * 3600_000).toISOString(),
    ]);
    say(`\nPlan of the health read (TEAM_HEALTH_SQL):\n${plan.rows.map((r) => `  ${r["QUERY PLAN"]}`).join("\n")}`);

    // For contrast: the same 24 h numbers computed from the attempt log, as the first build did.
    const fromLog = await timed(() =>
      pool.query(
        `SELECT d."endpointId", count(*) AS attempts, count(*) FILTER (WHERE a."statusCode" BETWEEN 200 AND 299) AS ok,
                percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY a."durationMs") AS p
         FROM "DeliveryAttempt" a JOIN "Delivery" d ON d.id = a."deliveryId"
         WHERE d."teamId" = $1 AND a."startedAt" >= (now() AT TIME ZONE 'UTC') - interval '24 hours'
         GROUP BY 1`,
        [team.id],
      ),
    );
    say(`\nThe same from the attempt log instead (no rollup): ${fromLog.p50.toFixed(1)} / ${fromLog.max.toFixed(1)} ms; the rollup is ${(fromLog.p50 / health.p50).toFixed(0)}× faster`);
    await db.$disconnect();
    await pool.end();
  } finally {
    await pg.stop();
  }
}

await main();
