// pg-boss 10 as the bench's peer, in its own process like every other dispatcher: it loads
// `BOSS_WARM` jobs into a warm-up queue and `BOSS_TOTAL` into its own, works the first untimed,
// waits while the bench settles the database, then works the rest with the given knobs and
// reports how long that took. Its process ends with the run, so nothing of it (timers, pollers,
// connections) outlives its phase.
// Messages: sends { loaded }, gets "warm" (the untimed drain) and "drain", sends { elapsedMs } for each, gets "exit".
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
/** The untimed drain first (BOSS_WARM jobs, the bench's WARM_ALERTS), from a queue of its own. */
const warmQueue = `${queue}_warm`;
const warmTotal = Number(process.env.BOSS_WARM ?? 0);
for (const [name, count] of [[warmQueue, warmTotal], [queue, total]] as const) {
  await boss.createQueue(name);
  const jobs = Array.from({ length: count }, (_, n) => ({ name, data: { n, prefix: prefixes[n % prefixes.length]! } }));
  for (let i = 0; i < jobs.length; i += 1000) await boss.insert(jobs.slice(i, i + 1000));
}
/** The envelope every peer sends (peerBody in bench/lib.ts). */
const body = process.env.BOSS_BODY!;
const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });

/** Works `count` jobs of queue `name` with the given knobs; resolves with how long it took, its workers stopped. */
async function work(name: string, count: number): Promise<number> {
  let done = 0;
  const workerIds: string[] = [];
  const started = performance.now();
  await new Promise<void>((resolve) => {
    for (let w = 0; w < loops; w++) {
      void boss
        .work<{ n: number; prefix: string }>(name, { batchSize, pollingIntervalSeconds: 0.5 }, async (batch) => {
          await Promise.all(
            batch.map(async (job) => {
              const headers = deliveryHeaders(secrets[job.data.prefix]!, `msg_${name}_${job.data.n}`, Math.floor(Date.now() / 1000), body);
              const response = await request(`${base}${job.data.prefix}`, { method: "POST", headers, body, dispatcher: agent });
              await response.body.dump();
            }),
          );
          done += batch.length;
          if (done >= count) resolve();
          // Fetch the next batch at once instead of after the polling interval.
          if (notify) for (const id of workerIds) boss.notifyWorker(id);
        })
        .then((id) => workerIds.push(id));
    }
  });
  const elapsedMs = performance.now() - started;
  await boss.offWork(name);
  return elapsedMs;
}

process.on("message", async (message: unknown) => {
  if (message === "exit") process.exit(0);
  if (message === "warm") process.send!({ elapsedMs: await work(warmQueue, warmTotal) });
  if (message === "drain") process.send!({ elapsedMs: await work(queue, total) });
});
process.send!({ loaded: true });
