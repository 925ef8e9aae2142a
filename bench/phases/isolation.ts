// bench phase (5): isolation. One of ten endpoints hangs until the timeout; the other nine keep their rate.
import { ask, type BenchContext, child, fmt, rate, type ReceiverStats, say } from "../lib";
import { warmUp } from "./dispatch";

export async function isolation(ctx: BenchContext) {
  const { only, db, base, receiver, stats, reset, results, cleanup, workerFile, endpoints, enqueue, printStatementStats } = ctx;
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
    const runWith = async (tag: string, count: number, round: number) => {
      const worker = child(workerFile, { BENCH_TIMEOUT_MS: String(timeoutMs) });
      await ask(worker, undefined, "ready");
      // Warm, as every dispatcher in this bench. Cold, the worker's compiling held the nine alone
      // to about their rate beside the hanging endpoint, and hid most of what that endpoint costs
      // (2026-12-05, before e2a25e2: 0.86 and 0.98 cold, 0.75 and 0.68 warm, alternating).
      await warmUp(ctx, [worker], `iso-${round}`);
      const { team } = await endpoints(tag, count, (i) => (i === 9 ? `http://127.0.0.1:${hangingPort}/${tag}/${i}` : `${base}/${tag}/${i}`));
      await enqueue(team, perEndpoint);
      // BENCH_PG_STATS=1: the drain's statements alone (the warm-up's and the enqueue's left out).
      await printStatementStats();
      await ask(worker, "drain", "elapsedMs");
      worker.kill();
      if (process.env.BENCH_PG_STATS) say(`    ${tag}, round ${round + 1}: the drain's statements`);
      await printStatementStats();
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
    for (const [round, hangs] of [false, true, true, false].entries()) {
      if (hangs) beside.push(await runWith("iso-hang", 10, round));
      else alone.push(await runWith("iso-alone", 9, round));
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    results.isolation = mean(beside) / mean(alone);
    say(`    nine alone ${alone.map((r) => fmt(r)).join(", ")} deliveries/s; beside the hanging one ${beside.map((r) => fmt(r)).join(", ")}; fraction of the means ${fmt(results.isolation, 2)}`);
  }
}
