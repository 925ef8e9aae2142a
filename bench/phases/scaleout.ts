// bench phase (3c): the dispatch phase's work for two worker processes at once.
import { ALERTS, ask, type BenchContext, child, cpuSplit, ENDPOINTS, fmt, rate, say, TOTAL } from "../lib";
import { postgresPids } from "../cpu";
import { warmUp } from "./dispatch";

export async function scaleout(ctx: BenchContext) {
  const { only, db, receiver, stats, reset, results, report, cleanup, workerFile, endpoints, enqueue, settle } = ctx;
  // (3c) Scale-out: the same work as (2) for two worker processes at once.
  if (only.has("scaleout")) {
    const workers = [child(workerFile), child(workerFile)];
    for (const worker of workers) cleanup.push(async () => worker.kill());
    await Promise.all(workers.map((worker) => ask(worker, undefined, "ready")));
    // Warmed up together, as the one worker of (2) is alone.
    await warmUp(ctx, workers, "so");
    const { team } = await endpoints("so", ENDPOINTS);
    await enqueue(team, ALERTS);
    await settle(['"Delivery"', '"Event"']);
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
}
