// bench phase (3b): pg-boss 10 on its own tables, its knobs swept.
import crypto from "node:crypto";
import { ask, type BenchContext, child, cpuSplit, ENDPOINTS, fmt, peerBody, rate, say, TOTAL, WARM_ALERTS } from "../lib";
import { postgresPids } from "../cpu";

export async function pgboss(ctx: BenchContext) {
  const { only, base, receiver, stats, reset, results, report, cleanup, settle, warmedUp } = ctx;
  // (3b) pg-boss 10 on its own tables, its knobs swept; the job table analysed after loading.
  if (only.has("pgboss")) {
    const secrets = Object.fromEntries(Array.from({ length: ENDPOINTS }, (_, i) => [`/boss/${i}`, `whsec_${crypto.randomBytes(32).toString("base64")}`]));
    await ask(receiver, { secrets }, "ok");
    const body = await peerBody();
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
        BOSS_WARM: String(WARM_ALERTS * ENDPOINTS),
        BOSS_BATCH: String(config.batchSize),
        BOSS_LOOPS: String(config.loops),
        BOSS_NOTIFY: config.notify ? "1" : "0",
        BOSS_BASE: base,
        BOSS_SECRETS: JSON.stringify(secrets),
        BOSS_BODY: body,
        BOSS_QUEUE: `deliveries_${index}`,
      });
      cleanup.push(async () => worker.kill());
      await ask(worker, undefined, "loaded");
      if (WARM_ALERTS > 0) {
        await ask(worker, "warm", "elapsedMs");
        await warmedUp("pg-boss bench", WARM_ALERTS * ENDPOINTS);
      }
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
}
