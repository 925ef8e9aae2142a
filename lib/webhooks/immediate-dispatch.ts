import "server-only";
import { Dispatcher } from "@/lib/webhooks/dispatch";

const globalForDispatcher = globalThis as unknown as { mon1torDispatcher?: Dispatcher };

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

/** After a commit: try the new deliveries now, without waiting for a worker or the cron. */
export function kickDeliveries(ids: string[]): Promise<void> {
  if (ids.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    waiting.push({ ids, done: resolve });
    running ??= drainWaiting();
  });
}
