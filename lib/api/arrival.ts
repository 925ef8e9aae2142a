// When each HTTP request reached this process, so that an overloaded web server can answer at
// once instead of after a minute in its own queue. Under an alert storm the queue forms here,
// before any handler runs: the web process's CPU, not the database, is what is short (bench
// phase 6), so the group commit's own overload check never saw it. Node's HTTP server publishes
// each request on the "http.server.request.start" diagnostics channel as soon as it is parsed,
// before Next routes it; the time is stamped there into a header that is always overwritten, so
// a client's own value never reaches a handler.
import diagnostics from "node:diagnostics_channel";
import type http from "node:http";

export const ARRIVED_HEADER = "x-mon1tor-arrived-ms";

/** A request that waited longer than this in the web process before its handler ran is refused with a 503 and Retry-After. */
export const MAX_QUEUED_MS = 1_000;

let stamping = false;

/** From now on, every request this process serves carries the time it arrived (instrumentation.ts). */
export function stampArrivals() {
  if (stamping) return;
  stamping = true;
  diagnostics.subscribe("http.server.request.start", (message) => {
    const { request } = message as { request: http.IncomingMessage };
    request.headers[ARRIVED_HEADER] = String(Date.now());
  });
}

/** How long `request` waited in this process before its handler ran; null when it was not stamped (tests, other servers). */
export function queuedMs(request: Request, now = Date.now()): number | null {
  const arrived = Number(request.headers.get(ARRIVED_HEADER));
  return Number.isFinite(arrived) && arrived > 0 ? Math.max(0, now - arrived) : null;
}
