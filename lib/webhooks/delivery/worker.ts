// The long-running dispatch worker: drains due deliveries, wakes at once on NOTIFY from a
// commit, polls every second as a fallback, runs housekeeping every minute, and survives
// the database going away and coming back.
import pg from "pg";
import { createDispatchPool, pool as defaultPool } from "@/lib/db";
import { runHousekeeping } from "@/lib/housekeeping";
import { Dispatcher, type DispatcherOptions } from "@/lib/webhooks/delivery/dispatch";
import { DISPATCH_CHANNEL } from "@/lib/webhooks/delivery/enqueue";
import { WORKER_APPLICATION_NAME } from "@/lib/webhooks/delivery/wake";

const POLL_MS = 1_000;
const HOUSEKEEPING_EVERY_MS = 60 * 1000;

/**
 * Waits `ms`, or until `wake` is called or `signal` aborts. The abort listener is removed
 * every round: a worker polls ~86,400 times a day and must not keep one per round.
 */
export function pause(ms: number, signal: AbortSignal, setWake: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      setWake(() => {});
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    setWake(done);
    if (signal.aborted) done();
  });
}

/**
 * The worker's wake-up call. A NOTIFY that arrives while the worker is draining (say, while
 * its last claim is on the wire and about to come back empty) is remembered: the wait after
 * that drain then returns at once instead of sleeping through the poll interval.
 */
export class Alarm {
  private rung = false;
  private wake: () => void = () => {};
  /** A NOTIFY arrived. */
  ring() {
    this.rung = true;
    this.wake();
  }
  /** Before a drain: rings from here on are for the next wait. */
  reset() {
    this.rung = false;
  }
  /** Waits `ms`, unless it rang since the last reset (or rings meanwhile), or `signal` aborts. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.rung) return Promise.resolve();
    return pause(ms, signal, (next) => (this.wake = next));
  }
}

export type WorkerOptions = DispatcherOptions & {
  databaseUrl: string;
  retentionDays: number;
  /** At stop, how long to keep trying to write outcomes while the database is away. */
  recordGraceMs?: number;
  log?: (line: string) => void;
};

export async function runWorker(options: WorkerOptions, signal: AbortSignal): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(`[worker] ${line}`));
  const pool = options.pool ?? defaultPool;
  // Its own pool unless given one (tests): closed when the worker stops.
  const dispatchPool = options.pool ? null : createDispatchPool(options.databaseUrl);
  const dispatcher = new Dispatcher({ ...options, pool: options.pool ?? dispatchPool! });
  const alarm = new Alarm();
  let listener: pg.Client | null = null;

  // LISTEN on its own connection; if it drops, polling carries on and we reconnect.
  const listen = async () => {
    // Named, so the web process can tell that a worker is listening (lib/webhooks/delivery/wake.ts).
    const client = new pg.Client({ connectionString: options.databaseUrl, application_name: WORKER_APPLICATION_NAME });
    client.on("notification", () => alarm.ring());
    // Dropped (a restart, a failover, pg_terminate_backend): NOTIFYs may have been missed while
    // it was gone, so drain now; the next round connects again.
    client.on("error", () => {
      if (listener === client) listener = null;
      void client.end().catch(() => {});
      alarm.ring();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${DISPATCH_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    listener = client;
  };

  let lastHousekeeping = 0;
  let backoff = 0;
  log(`started (timeout ${dispatcher.timeoutMs} ms, lease ${dispatcher.leaseMs} ms)`);
  while (!signal.aborted) {
    try {
      if (!listener) await listen();
      if (Date.now() - lastHousekeeping > HOUSEKEEPING_EVERY_MS) {
        const report = await runHousekeeping(pool, options.retentionDays);
        if (report.daysDropped > 0) log(`dropped ${report.daysDropped} day partitions of history older than ${options.retentionDays} days`);
        if (report.daysKept > 0) log(`kept ${report.daysKept} day partitions past ${options.retentionDays} days: a delivery there is still queued`);
        if (report.deliveriesPurged > 0) log(`purged ${report.deliveriesPurged} deliveries older than ${options.retentionDays} days`);
        if (report.deliveriesExpired > 0) log(`expired ${report.deliveriesExpired} deliveries of inactive endpoints`);
        lastHousekeeping = Date.now();
      }
      alarm.reset();
      const stats = await dispatcher.drain({ signal });
      if (stats.attempted > 0) log(`sent ${stats.attempted}: ${stats.delivered} delivered, ${stats.failed} failed`);
      backoff = 0;
    } catch (error) {
      dispatcher.reportError("dispatch", error);
      backoff = Math.min(5_000, backoff ? backoff * 2 : 250);
    }
    // After an error, back off whatever rang; else a ring during the drain means go again now.
    if (backoff) await pause(backoff, signal, () => {});
    else await alarm.wait(POLL_MS, signal);
  }
  // Stopping: drain() sent nothing new after the abort, waited for the attempts in flight and
  // tried to write their outcomes once. Those the database did not take yet get a few more tries.
  const unrecorded = await dispatcher.settle(performance.now() + (options.recordGraceMs ?? 5_000));
  if (unrecorded > 0) log(`${unrecorded} outcomes could not be written: those deliveries are sent again when their lease ends`);
  await (listener as pg.Client | null)?.end().catch(() => {});
  await dispatchPool?.end().catch(() => {});
  log("stopped");
}
