// pg-boss 10 as the bench's peer, in its own process like every other dispatcher: it loads
// `BOSS_TOTAL` jobs into its own queue, waits while the bench settles the database, then
// works them with the given knobs and reports how long that took. Its process ends with the
// run, so nothing of it (timers, pollers, connections) outlives its phase.
// Messages: sends { loaded }, gets "drain", sends { elapsedMs }, gets "exit".
import PgBoss from "pg-boss";
import { Agent, request } from "undici";
import { deliveryHeaders } from "../lib/webhooks/delivery/sign";

const total = Number(process.env.BOSS_TOTAL);
const batchSize = Number(process.env.BOSS_BATCH);
const loops = Number(process.env.BOSS_LOOPS);
const notify = process.env.BOSS_NOTIFY === "1";
const base = process.env.BOSS_BASE!;
const secrets = JSON.parse(process.env.BOSS_SECRETS!) as Record<string, string>;
const queue = process.env.BOSS_QUEUE!;
const prefixes = Object.keys(secrets);

const boss = new PgBoss({ connectionString: process.env.DATABASE_URL, max: 10, supervise: false, schedule: false, migrate: true });
boss.on("error", (error: Error) => console.error("[pg-boss]", error.message));
await boss.start();
await boss.createQueue(queue);
const jobs = Array.from({ length: total }, (_, n) => ({ name: queue, data: { n, prefix: prefixes[n % prefixes.length]! } }));
for (let i = 0; i < jobs.length; i += 1000) await boss.insert(jobs.slice(i, i + 1000));
/** The envelope every peer sends (peerBody in bench/lib.ts). */
const body = process.env.BOSS_BODY!;
const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });

process.on("message", async (message: unknown) => {
  if (message === "exit") process.exit(0);
  if (message !== "drain") return;
  let done = 0;
  const workerIds: string[] = [];
  const started = performance.now();
  await new Promise<void>((resolve) => {
    for (let w = 0; w < loops; w++) {
      void boss
        .work<{ n: number; prefix: string }>(queue, { batchSize, pollingIntervalSeconds: 0.5 }, async (batch) => {
          await Promise.all(
            batch.map(async (job) => {
              const headers = deliveryHeaders(secrets[job.data.prefix]!, `msg_${queue}_${job.data.n}`, Math.floor(Date.now() / 1000), body);
              const response = await request(`${base}${job.data.prefix}`, { method: "POST", headers, body, dispatcher: agent });
              await response.body.dump();
            }),
          );
          done += batch.length;
          if (done >= total) resolve();
          // Fetch the next batch at once instead of after the polling interval.
          if (notify) for (const id of workerIds) boss.notifyWorker(id);
        })
        .then((id) => workerIds.push(id));
    }
  });
  process.send!({ elapsedMs: performance.now() - started });
});
process.send!({ loaded: true });
