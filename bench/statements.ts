// `npm run bench:statements`: PostgreSQL's CPU for the two statements every alert goes
// through. The alert API's one-statement ingest runs as a named (server-side prepared)
// statement, as the app runs it, and unnamed, which PostgreSQL parses and plans again on every
// call; rounds alternate between the two, on one fresh embedded PostgreSQL with one team and 10
// active endpoints. The worker's claim is unnamed (lib/db.ts says why), measured in the same
// rounds. Then the claim once more, beside endpoints that each hold one delivery waiting for a
// retry: the claim reads new deliveries endpoint by endpoint (lib/webhooks/delivery/claim.ts), and
// endpoints that only wait must not add to its cost.
//   BENCH_STATEMENT_CALLS=1500   calls per round
//   BENCH_WAITING_ENDPOINTS=1000 endpoints with a delivery in backoff, for the last measurement
import os from "node:os";
import type pg from "pg";
import { cpuSeconds, postgresPids } from "./cpu";
import { startBenchDatabase } from "./database";

const CALLS = Number(process.env.BENCH_STATEMENT_CALLS ?? 1500);
const ROUNDS = 3;
const say = (line: string) => console.log(line);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

type Mode = "named" | "unnamed";

/**
 * Runs `work` with the pool's queries as the app sends them ("named"), or with their names
 * dropped ("unnamed"), so that PostgreSQL parses and plans every call.
 */
async function inMode<T>(pool: pg.Pool, mode: Mode, work: () => Promise<T>): Promise<T> {
  if (mode === "named") return work();
  const query = pool.query;
  const send = query.bind(pool) as (text: string | pg.QueryConfig, values?: unknown[]) => Promise<pg.QueryResult>;
  pool.query = ((config: string | pg.QueryConfig, values?: unknown[]) =>
    typeof config === "object" && config.name ? send(config.text, config.values) : send(config, values)) as typeof pool.query;
  try {
    return await work();
  } finally {
    pool.query = query;
  }
}

async function main() {
  say(`mon1tor statement bench · ${new Date().toISOString().slice(0, 10)} · ${os.cpus().length} × ${os.cpus()[0]?.model.trim()} · Node ${process.version}`);
  const { pg: server } = await startBenchDatabase("bench-statements");
  try {
    const { db, pool } = await import("../lib/db");
    const { createActiveEndpoint } = await import("../lib/testing/factories");
    const { fastIngest } = await import("../lib/alerts/fast-ingest");
    const { claimDeliveries } = await import("../lib/webhooks/delivery/claim");
    const team = await db.team.create({ data: { name: "statements" } });
    for (let i = 0; i < 10; i++) await createActiveEndpoint(team.id, `https://receiver-${i}.example.com/webhook`);
    const limit = { key: `api-key:${team.id}`, limit: 1e9, windowSeconds: 60, shards: 4 };
    const input = { title: "disk full", severity: "critical", status: "triggered" } as const;

    /** PostgreSQL CPU (µs) per unit of work while `work` runs; `units` is what it reports having done. */
    const measure = async (work: () => Promise<number>) => {
      const before = cpuSeconds(postgresPids());
      const units = await work();
      return ((cpuSeconds(postgresPids()) - before) / units) * 1e6;
    };

    /** PostgreSQL CPU (µs) per delivery claimed, 26 at a time, until `most` are claimed or none is due. */
    const claimAll = async (most: number) => {
      let claimed = 0;
      let cpu = 0;
      while (claimed < most) {
        const before = cpuSeconds(postgresPids());
        const { deliveries: got } = await claimDeliveries(pool, { now: null, limit: 26, leaseMs: 60_000, inFlight: new Map(), perEndpoint: 64 });
        cpu += cpuSeconds(postgresPids()) - before;
        if (got.length === 0) break;
        claimed += got.length;
        // Each claimed batch is marked done, outside the measurement.
        await pool.query(`UPDATE "Delivery" SET status = 'delivered', "nextAttemptAt" = NULL, "leaseExpiresAt" = NULL WHERE id = ANY($1)`, [got.map((d) => d.id)]);
      }
      return (cpu / claimed) * 1e6;
    };

    const ingestCpu: Record<Mode, number[]> = { named: [], unnamed: [] };
    const claimCpu: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of (round % 2 ? ["named", "unnamed"] : ["unnamed", "named"]) as Mode[]) {
        ingestCpu[mode].push(
          await inMode(pool, mode, () =>
            measure(async () => {
              for (let i = 0; i < CALLS; i++) await fastIngest(team, input, { limit, idempotency: null });
              return CALLS;
            }),
          ),
        );
        // Claims of 26, as the latency phase of `npm run bench` makes them (200 alerts/s × 10 endpoints).
        claimCpu.push(await claimAll(CALLS * 5));
        say(`  round ${round + 1}, ingest ${mode.padEnd(7)} ${Math.round(ingestCpu[mode].at(-1)!)} µs/alert; claim ${Math.round(claimCpu.at(-1)!)} µs/delivery`);
      }
    }
    const line = (what: string, values: Record<Mode, number[]>, unit: string) =>
      say(`  ${what.padEnd(30)} ${String(Math.round(median(values.named))).padStart(6)} ${String(Math.round(median(values.unnamed))).padStart(8)}   ${(median(values.named) / median(values.unnamed)).toFixed(2)}×  µs per ${unit}`);
    say("\n  PostgreSQL CPU (median)          named  unnamed   named/unnamed");
    line("alert API ingest statement", ingestCpu, "alert");
    say(`  worker claim, 26 at a time      ${String(Math.round(median(claimCpu))).padStart(6)}  µs per delivery`);

    // The same claims beside endpoints that wait for a retry: one delivery each, due in an hour.
    const waiting = Number(process.env.BENCH_WAITING_ENDPOINTS ?? 1000);
    const other = await db.team.create({ data: { name: "waiting" } });
    for (let i = 0; i < waiting; i++) await createActiveEndpoint(other.id, `https://waiting-${i}.example.com/webhook`);
    await fastIngest({ id: other.id, name: other.name }, input, { limit, idempotency: null });
    await pool.query(`UPDATE "Delivery" SET status = 'retrying', "nextAttemptAt" = now() + interval '1 hour' WHERE "teamId" = $1`, [other.id]);
    await pool.query(`VACUUM ANALYZE "Delivery"`);
    const beside: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < CALLS; i++) await fastIngest(team, input, { limit, idempotency: null });
      beside.push(await claimAll(CALLS * 10));
    }
    say(`  worker claim, 26 at a time, beside ${waiting.toLocaleString("en-US")} endpoints waiting for a retry: ${Math.round(median(beside))} µs per delivery`);
    await db.$disconnect();
    await pool.end();
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
