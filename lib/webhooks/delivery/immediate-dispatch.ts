import "server-only";
import { pool } from "@/lib/db";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { createWaker } from "@/lib/webhooks/delivery/wake";

const globalForDispatcher = globalThis as unknown as { mon1torDispatcher?: Dispatcher; mon1torWaker?: ReturnType<typeof createWaker> };
const waker = () => (globalForDispatcher.mon1torWaker ??= createWaker(pool));

/** One dispatcher per web process, so its per-endpoint limits hold across requests. */
export const webDispatcher = () => (globalForDispatcher.mon1torDispatcher ??= new Dispatcher());

// Kicks arriving while a drain runs are gathered and sent by the next one, so a burst of
// API calls costs one claim per round rather than one per request.
let waiting: { ids: string[]; done: () => void }[] = [];
let running: Promise<void> | null = null;

async function drainWaiting() {
  while (waiting.length > 0) {
    const batch = waiting;
    waiting = [];
    try {
      await webDispatcher().drain({ ids: batch.flatMap((kick) => kick.ids), budgetMs: 30_000 });
    } catch (error) {
      // The worker or the cron picks them up; nothing is lost.
      webDispatcher().reportError("immediate dispatch", error);
    }
    for (const kick of batch) kick.done();
  }
  running = null;
}

/**
 * After new deliveries committed. With a dispatch worker listening, wake it and leave the
 * sending to it: this process's CPU then goes to taking alerts in, and the worker claims in
 * larger batches. Without one (only the cron route drains), send them from here right away.
 */
export async function dispatchSoon(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  if (await waker().workerListening()) return waker().wake();
  return kickDeliveries(ids);
}

/** Whether a dispatch worker is there to send what the alert API queues (createWaker's workerListening). */
export const workerListening = () => waker().workerListening();

/** Tries these deliveries now, in this process, without waiting for a worker or the cron (a test send waits for it). */
export function kickDeliveries(ids: string[]): Promise<void> {
  if (ids.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    waiting.push({ ids, done: resolve });
    running ??= drainWaiting();
  });
}
