// What the queue-design benches share (`npm run bench:lean-queue`, `npm run bench:event-queue`):
// a fresh database, the app's modules loaded against it, the dispatch pool, and the successful
// outcome every attempt gets (a storm's common case). Statement-level: no HTTP, no worker process.
import os from "node:os";
import { cpuSeconds, postgresPids } from "./cpu";
import { startBenchDatabase } from "./database";
import type { OutboundResult } from "../lib/webhooks/delivery/outbound";

export async function startQueueDesignBench(name: string) {
  console.log(`mon1tor ${name} bench · ${new Date().toISOString().slice(0, 10)} · ${os.cpus().length} × ${os.cpus()[0]?.model.trim()} · Node ${process.version}`);
  const { pg: server } = await startBenchDatabase(name);
  // The app's modules read the environment the database set: loaded only now.
  const { db, createDispatchPool } = await import("../lib/db");
  const { failurePolicyFromEnv, applyFailurePolicy } = await import("../lib/webhooks/delivery/failure");
  return {
    server,
    db,
    pool: createDispatchPool(),
    policy: failurePolicyFromEnv(),
    applyFailurePolicy,
    ...(await import("../lib/testing/factories")),
    ...(await import("../lib/alerts/fast-ingest")),
    ...(await import("../lib/webhooks/delivery/claim")),
    ...(await import("../lib/webhooks/delivery/record")),
    ...(await import("../lib/webhooks/delivery/health-hours")),
  };
}

/** Every attempt succeeds: the common case of a storm. */
export const ok: OutboundResult = { ok: true, statusCode: 200, errorClass: null, reason: null, durationMs: 3, responseExcerpt: "", retryAfterSeconds: null, certificate: null };

/** PostgreSQL's CPU seconds while `work` runs. */
export async function postgresCpu(work: () => Promise<unknown>) {
  const before = cpuSeconds(postgresPids());
  await work();
  return cpuSeconds(postgresPids()) - before;
}
