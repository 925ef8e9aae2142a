// bench phase (3a): the naive SKIP LOCKED dispatcher on its own lean table, bare and with an attempt log.
import crypto from "node:crypto";
import { ask, type BenchContext, child, cpuSplit, ENDPOINTS, fmt, peerBody, rate, say, TOTAL, WARM_ALERTS } from "../lib";
import { postgresPids } from "../cpu";

type NaiveConfig = { loops: number; batch: number; log: boolean };

/** The naive loop's receiver paths and their secrets: one set for the whole run, registered once. */
let naiveSecrets: Record<string, string> | null = null;

/** One timed drain of TOTAL deliveries by the naive loop in `config`, on a fresh lean table, warmed up first (WARM_ALERTS); checks every one arrived. */
export async function naiveRun(ctx: BenchContext, config: NaiveConfig) {
  const { db, base, receiver, stats, reset, cleanup, settle, warmedUp } = ctx;
  if (!naiveSecrets) {
    naiveSecrets = Object.fromEntries(Array.from({ length: ENDPOINTS }, (_, i) => [`/naive/${i}`, `whsec_${crypto.randomBytes(32).toString("base64")}`]));
    await ask(receiver, { secrets: naiveSecrets }, "ok");
  }
  const { NAIVE_TABLE_SQL } = await import("../naive-worker");
  for (const statement of NAIVE_TABLE_SQL.split(";").filter((q) => q.trim())) await db.$executeRawUnsafe(statement);
  const body = await peerBody();
  /** `count` deliveries to do, round robin over the endpoints. */
  const fill = (count: number) =>
    db.$executeRawUnsafe(
      `INSERT INTO bench_naive (url, secret, body)
       SELECT $1 || '/naive/' || (g % ${ENDPOINTS}), (($2::jsonb) ->> ('/naive/' || (g % ${ENDPOINTS}))), $3 FROM generate_series(0, ${count - 1}) g`,
      base,
      JSON.stringify(naiveSecrets),
      body,
    );
  const worker = child("bench/naive-worker.ts", { NAIVE_LOOPS: String(config.loops), NAIVE_BATCH: String(config.batch), NAIVE_LOG: config.log ? "1" : "0" });
  cleanup.push(async () => worker.kill());
  await ask(worker, undefined, "ready");
  if (WARM_ALERTS > 0) {
    await fill(WARM_ALERTS * ENDPOINTS);
    await ask(worker, "drain", "elapsedMs");
    await warmedUp("naive bench", WARM_ALERTS * ENDPOINTS);
  }
  await fill(TOTAL);
  await settle(["bench_naive"]);
  const split = await cpuSplit({ worker: () => [worker.pid!], postgres: postgresPids, receiver: () => [receiver.pid!] }, TOTAL, () =>
    ask<{ elapsedMs: number; delivered: number }>(worker, "drain", "elapsedMs"),
  );
  const run = split.value;
  worker.send("exit");
  const s = await stats();
  await reset();
  if (s.received !== TOTAL || s.invalid !== 0) throw new Error(`naive bench: ${s.received} of ${TOTAL} arrived, ${s.invalid} bad signatures`);
  return { perSecond: rate(run.delivered, run.elapsedMs), split };
}

export async function naive(ctx: BenchContext) {
  const { only, results, report } = ctx;
  // (3a) The naive dispatcher on its own lean table (bench/naive-worker.ts), a few shapes.
  if (only.has("naive")) {
    const configs = [
      { loops: 1, batch: 100 },
      { loops: 5, batch: 100 },
      { loops: 2, batch: 500 },
    ];
    // Each shape twice: bare, and writing one attempt row per delivery (NAIVE_LOG), what our attempt log costs.
    const best: Record<"bare" | "withLog", { rate: number; loops: number; batch: number } | null> = { bare: null, withLog: null };
    for (const config of configs.flatMap((shape) => [{ ...shape, log: false }, { ...shape, log: true }])) {
      const { perSecond: r, split } = await naiveRun(ctx, config);
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
}
