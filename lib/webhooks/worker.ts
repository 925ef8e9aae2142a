// The long-running dispatch worker: drains due deliveries, wakes at once on NOTIFY from a
// commit, polls every second as a fallback, purges old history, and survives the database
// going away and coming back.
import pg from "pg";
import { pool as defaultPool } from "@/lib/db";
import { Dispatcher, type DispatcherOptions } from "@/lib/webhooks/dispatch";
import { DISPATCH_CHANNEL } from "@/lib/webhooks/enqueue";
import { purgeHistory } from "@/lib/webhooks/retention";

const POLL_MS = 1_000;
const PURGE_EVERY_MS = 60 * 60 * 1000;

export type WorkerOptions = DispatcherOptions & {
  databaseUrl: string;
  retentionDays: number;
  log?: (line: string) => void;
};

export async function runWorker(options: WorkerOptions, signal: AbortSignal): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(`[worker] ${line}`));
  const pool = options.pool ?? defaultPool;
  const dispatcher = new Dispatcher({ ...options, pool });
  let wake: () => void = () => {};
  let listener: pg.Client | null = null;

  // LISTEN on its own connection; if it drops, polling carries on and we reconnect.
  const listen = async () => {
    const client = new pg.Client({ connectionString: options.databaseUrl });
    client.on("notification", () => wake());
    client.on("error", () => {
      if (listener === client) listener = null;
    });
    await client.connect();
    await client.query(`LISTEN ${DISPATCH_CHANNEL}`);
    listener = client;
  };

  let lastPurge = 0;
  let backoff = 0;
  log(`started (timeout ${dispatcher.timeoutMs} ms, lease ${dispatcher.leaseMs} ms)`);
  while (!signal.aborted) {
    try {
      if (!listener) await listen();
      if (Date.now() - lastPurge > PURGE_EVERY_MS) {
        const purged = await purgeHistory(pool, options.retentionDays);
        if (purged.deliveries > 0) log(`purged ${purged.deliveries} deliveries older than ${options.retentionDays} days`);
        lastPurge = Date.now();
      }
      const stats = await dispatcher.drain({ signal });
      if (stats.attempted > 0) log(`sent ${stats.attempted}: ${stats.delivered} delivered, ${stats.failed} failed`);
      backoff = 0;
    } catch (error) {
      dispatcher.reportError("dispatch", error);
      backoff = Math.min(5_000, backoff ? backoff * 2 : 250);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, backoff || POLL_MS);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
      signal.addEventListener("abort", wake, { once: true });
    });
    wake = () => {};
  }
  await (listener as pg.Client | null)?.end().catch(() => {});
  log("stopped");
}
