// Admission of alert calls, in front of Next (installed by instrumentation.ts). Under a storm
// larger than a web process can take, every alert call waited in line: in Node, in Next, and in
// the clients' own connection pools, 35.9 s at worst in the bench's overload phase (1,000 alerts/s
// offered). The group commit's own refusal (lib/alerts/fast-ingest.ts) never came into play:
// `next start` costs about a millisecond of CPU per request before any route runs, so past about
// 900 requests a second no handler runs soon enough to refuse anything.
//
// So the refusal comes first: when more alert calls are in flight in this process than it
// completes in ADMISSION_BUDGET_MS, the next is answered 503 with Retry-After as Node hands it
// over, before Next parses or routes it, for a few microseconds. The Retry-After grows with the
// clients refused, so that their retries come no faster than this process completes calls. Nothing of a refused call is
// read or stored; a client that retries with its Idempotency-Key ends with each alert once.
// Admitted calls go on to Next, or, given their route handlers (production), are served right
// here by them (lib/api/front.ts), without Next's per-request cost.
import diagnostics from "node:diagnostics_channel";
import type http from "node:http";
import { overloaded } from "@/lib/alerts/fast-ingest";
import { SECURITY_HEADERS, serveInFront, type RouteHandler } from "@/lib/api/front";
import { httpStatus } from "@/lib/errors";
import { metrics, type IngestSource } from "@/lib/metrics/metrics";

/** The calls admitted: those that take in alerts, by their metrics source. Everything else goes straight to Next. */
const ALERT_CALLS = /^\/api\/v1\/(alerts(?:\/batch)?|integrations\/alertmanager)\/?(?:\?|$)/;
const SOURCES: Record<string, IngestSource> = { alerts: "api", "alerts/batch": "batch", "integrations/alertmanager": "alertmanager" };

/**
 * In flight, at most what this process completes in this long: the wait an admitted call may have.
 * Short, because the refusals must keep up too: served in front of Next, a web process completes
 * some 1,500 alert calls a second, so a 250 ms budget let 375 in flight, more than a client's
 * connection pool holds (the bench's 256): nothing was refused, and at 4,000 alerts/s offered
 * calls waited up to 20 s in the client for a connection. Refused in microseconds instead, the
 * surplus frees its connections at once.
 */
export const ADMISSION_BUDGET_MS = 50;
/** Never fewer admitted than this. */
export const ADMISSION_MIN_IN_FLIGHT = 100;
/**
 * Calls admitted past the limit once: a burst after a quiet spell or a restart (every client
 * retrying at once: some 400 in the deploy test) is taken whole, and only a storm that outlasts it
 * is refused. Given back whole after a second in which no call found the limit full, not sooner:
 * given back as soon as the calls in flight fell to half the limit, a 4,000 alerts/s storm got it
 * back every few moments, and its calls waited 24 s in the clients' pools again.
 */
export const ADMISSION_BURST = 1_000;

/** The longest Retry-After admission asks for. */
export const MAX_RETRY_AFTER_SECONDS = 60;

export class Admission {
  inFlight = 0;
  /** What is left of the burst allowance. */
  private burst: number;
  /** When a call last found the limit full. */
  private lastFullAt = -Infinity;

  constructor(private readonly burstSize = ADMISSION_BURST) {
    this.burst = burstSize;
  }

  /** Alert calls completed per second, smoothed, measured only while busy. */
  private rate = 0;
  private completedSinceRate = 0;
  private refusedSinceRate = 0;
  private lastRateAt = performance.now();
  /**
   * What a refusal asks the client to wait. Refused clients come back after it, so refusals a
   * second × this wait ≈ the clients waiting; asking each to wait (waiting ÷ completed a second)
   * spreads their retries over what this process completes, instead of a retry storm that grows
   * with the backlog (every waiting client once a second: 1 million refusals in the bench's
   * 60 s overload, the process busy refusing them).
   */
  retryAfterSeconds = 1;

  get capacity() {
    this.updateRate();
    return Math.max(ADMISSION_MIN_IN_FLIGHT, Math.floor((this.rate * ADMISSION_BUDGET_MS) / 1_000));
  }

  /** True when the call may go on; it must then call `done()` once when it ends. Otherwise count it refused. */
  admit(): boolean {
    const now = performance.now();
    if (this.inFlight >= this.capacity) {
      this.lastFullAt = now;
      if (this.burst < 1) {
        this.refusedSinceRate += 1;
        return false;
      }
      this.burst -= 1;
    } else if (this.burst < this.burstSize && now - this.lastFullAt >= 1_000) {
      this.burst = this.burstSize;
    }
    this.inFlight += 1;
    return true;
  }

  done() {
    this.inFlight -= 1;
    this.completedSinceRate += 1;
  }

  private updateRate() {
    const now = performance.now();
    const elapsed = now - this.lastRateAt;
    if (elapsed < 1_000) return;
    const measured = (this.completedSinceRate * 1_000) / elapsed;
    if (this.completedSinceRate > 0 || this.inFlight > 0) this.rate = this.rate === 0 ? measured : 0.5 * this.rate + 0.5 * measured;
    const waiting = ((this.refusedSinceRate * 1_000) / elapsed) * this.retryAfterSeconds;
    this.retryAfterSeconds = Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(waiting / Math.max(this.rate, ADMISSION_MIN_IN_FLIGHT))));
    this.completedSinceRate = 0;
    this.refusedSinceRate = 0;
    this.lastRateAt = now;
  }
}

function refuse(request: http.IncomingMessage, response: http.ServerResponse, source: IngestSource, retryAfterSeconds: number) {
  const error = overloaded();
  // The body is not read: it is discarded as it arrives, and the connection stays usable.
  request.resume();
  response.writeHead(httpStatus[error.code], { ...SECURITY_HEADERS, "content-type": "application/json", "retry-after": String(retryAfterSeconds) });
  response.end(JSON.stringify({ error: { code: error.code, message: error.message } }));
  metrics().alertsRefused.inc({ source, reason: error.code });
}

type RequestStart = { request: http.IncomingMessage; response: http.ServerResponse; server: http.Server };

/**
 * Puts `admission` in front of every HTTP server of this process: Node publishes each request
 * on this channel just before it emits the server's "request" event, which is where Next's
 * handler listens; the server's emit is wrapped there, once per server. An admitted call whose
 * route is in `routes` is served here by that handler (lib/api/front.ts); the rest go to Next.
 */
export function admitAlertCallsInFront(admission = new Admission(), routes: Partial<Record<IngestSource, RouteHandler>> = {}) {
  const fronted = new WeakSet<http.Server>();
  const front = (message: unknown) => {
    const { server } = message as RequestStart;
    if (fronted.has(server)) return;
    fronted.add(server);
    const emit = server.emit as (event: string | symbol, ...args: unknown[]) => boolean;
    server.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]) {
      if (event === "request") {
        const [request, response] = args as [http.IncomingMessage, http.ServerResponse];
        const call = request.method === "POST" ? ALERT_CALLS.exec(request.url ?? "") : null;
        if (call) {
          const source = SOURCES[call[1]!]!;
          if (!admission.admit()) {
            refuse(request, response, source, admission.retryAfterSeconds);
            return true;
          }
          response.once("close", () => admission.done());
          const route = routes[source];
          if (route) {
            void serveInFront(route, request, response);
            return true;
          }
        }
      }
      return emit.call(this, event, ...args);
    } as typeof server.emit;
  };
  diagnostics.subscribe("http.server.request.start", front);
  /** Stops fronting servers not yet seen (tests). */
  const stop = () => diagnostics.unsubscribe("http.server.request.start", front);
  return { admission, stop };
}
