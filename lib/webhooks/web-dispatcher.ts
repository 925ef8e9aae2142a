import "server-only";
import { Dispatcher } from "@/lib/webhooks/dispatch";

const globalForDispatcher = globalThis as unknown as { mon1torDispatcher?: Dispatcher };

/** One dispatcher per web process, so its per-endpoint limits hold across requests. */
export const webDispatcher = () => (globalForDispatcher.mon1torDispatcher ??= new Dispatcher());

/** After a commit: try the new deliveries now, without waiting for a worker or the cron. */
export async function kickDeliveries(ids: string[]) {
  if (ids.length === 0) return;
  try {
    await webDispatcher().drain({ ids, budgetMs: 30_000 });
  } catch (error) {
    // The worker or the cron picks them up; nothing is lost.
    webDispatcher().reportError("immediate dispatch", error);
  }
}
