// `npm run bench`: throughput, latency and isolation of webhook dispatch, measured against
// a fresh embedded PostgreSQL and a signature-checking receiver in its own process.
//   BENCH_ONLY=isolation,raw,dispatch,metrics,naive,rematch,pgboss,scaleout,ingest,latency,overload,batch   run a subset
//   BENCH_ALERTS=2000 BENCH_ENDPOINTS=10               size of the throughput runs
// Prints a table and writes bench/results/latest.json. The shared plumbing is bench/lib.ts; each
// phase is a file of bench/phases/, run in this order.
import os from "node:os";
import { createContext, fmt, say } from "./lib";
import { throughTheApi } from "./phases/api";
import { dispatch, metricsCost, rematch } from "./phases/dispatch";
import { isolation } from "./phases/isolation";
import { naive } from "./phases/naive";
import { pgboss } from "./phases/pgboss";
import { raw } from "./phases/raw";
import { scaleout } from "./phases/scaleout";
import { summarize } from "./phases/summary";

async function main() {
  say(`mon1tor dispatch bench · ${new Date().toISOString().slice(0, 10)} · ${os.cpus().length} × ${os.cpus()[0]?.model.trim()} · ${fmt(os.totalmem() / 2 ** 30)} GiB · Node ${process.version}`);
  const ctx = await createContext();
  try {
    // Isolation first, on a fresh database: after the other phases' 100,000-odd writes, vacuum and checkpoints skew it.
    for (const phase of [isolation, raw, dispatch, metricsCost, naive, rematch, pgboss, scaleout, throughTheApi]) await phase(ctx);
  } finally {
    for (const step of ctx.cleanup) await step().catch(() => {});
    ctx.receiver.kill();
    await ctx.db.$disconnect();
    await ctx.pg.stop();
  }
  summarize(ctx);
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
