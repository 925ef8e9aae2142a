// The one function that sends HTTP to customer endpoints, for validation and delivery
// alike. It never follows redirects, enforces the destination policy at connect time,
// and turns every outcome into a short reason a person can act on. It never throws.
import http from "node:http";
import { Agent, type Dispatcher } from "undici";
import { certificateFor, recordingConnector, type CertificateSeen } from "@/lib/webhooks/tls";
import { BlockedDestinationError, checkLiteralHost, guardedLookup, policyFromEnv, SchemePolicyError, type DestinationPolicy } from "@/lib/webhooks/ssrf";
import { responseExcerpt } from "@/lib/webhooks/response-excerpt";
import pkg from "@/package.json" with { type: "json" };

export const USER_AGENT = `mon1tor-webhooks/${pkg.version}`;
export const MAX_RESPONSE_BYTES = 64 * 1024;

export type ErrorClass =
  | "http_status"
  | "redirect"
  | "timeout"
  | "dns"
  | "refused"
  | "reset"
  | "tls"
  | "blocked"
  | "protocol"
  | "network"
  | "internal";

export type OutboundRequest = {
  method: "GET" | "POST";
  /** A URL object when the caller keeps one per endpoint, rather than parse it per request. */
  url: string | URL;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
};

export type OutboundResult = {
  ok: boolean;
  statusCode: number | null;
  errorClass: ErrorClass | null;
  /** Human reason for anything but a 2xx, e.g. "answered 404 Not Found". */
  reason: string | null;
  durationMs: number;
  responseExcerpt: string | null;
  retryAfterSeconds: number | null;
  /** For https: the peer certificate's expiry, as far as this request learned it. */
  certificate?: CertificateSeen | null;
};

// One agent per policy: undici keeps a separate keep-alive pool per origin inside it,
// so one slow host only ever ties up its own connections.
const agents = new WeakMap<DestinationPolicy, Agent>();
function agentFor(policy: DestinationPolicy) {
  let agent = agents.get(policy);
  if (!agent) {
    agent = new Agent({
      // Per origin. Above the per-endpoint in-flight cap (64), so one hanging endpoint
      // cannot take every connection to a host it shares with others.
      connections: 128,
      keepAliveTimeout: 10_000,
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: recordingConnector({ lookup: guardedLookup(policy), timeout: 10_000, ...(policy.ca ? { ca: policy.ca } : {}) }),
    });
    agents.set(policy, agent);
  }
  return agent;
}

export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return null;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim());
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

function causeChain(error: unknown): (Error & { code?: string })[] {
  const chain: (Error & { code?: string })[] = [];
  let current = error;
  while (current instanceof Error && chain.length < 5) {
    chain.push(current as Error & { code?: string });
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** The first error code in an error's cause chain, e.g. ECONNREFUSED or CERT_HAS_EXPIRED. */
export function errorCode(error: unknown): string | null {
  return causeChain(error).find((e) => typeof e.code === "string")?.code ?? null;
}

export function describeError(error: unknown, timedOut: boolean, timeoutMs: number): { errorClass: ErrorClass; reason: string } {
  const chain = causeChain(error);
  const find = (test: (e: Error & { code?: string }) => boolean) => chain.find(test);
  const blocked = find((e) => e instanceof BlockedDestinationError || e instanceof SchemePolicyError);
  if (blocked) return { errorClass: "blocked", reason: blocked.message };
  if (timedOut || find((e) => e.name === "TimeoutError" || /TIMEOUT/.test(e.code ?? ""))) {
    return { errorClass: "timeout", reason: `timed out after ${timeoutMs / 1000} s` };
  }
  const coded = find((e) => typeof e.code === "string");
  const code = coded?.code ?? "";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") return { errorClass: "dns", reason: "could not resolve host" };
  if (code === "ECONNREFUSED") return { errorClass: "refused", reason: "connection refused" };
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EPIPE") {
    return { errorClass: "reset", reason: "the connection was closed before a response" };
  }
  if (code === "UND_ERR_HEADERS_OVERFLOW") return { errorClass: "protocol", reason: "sent response headers larger than 16 KB" };
  if (code.startsWith("HPE_") || code === "UND_ERR_INFO") {
    return { errorClass: "protocol", reason: `sent an invalid HTTP response (${code})` };
  }
  if (TLS_CODES.test(code)) return { errorClass: "tls", reason: `TLS certificate error: ${coded?.message ?? code}` };
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return { errorClass: "network", reason: "host unreachable" };
  return { errorClass: "network", reason: `network error${code ? ` (${code})` : ""}` };
}

export function describeStatus(statusCode: number): { ok: boolean; errorClass: ErrorClass | null; reason: string | null } {
  if (statusCode >= 200 && statusCode < 300) return { ok: true, errorClass: null, reason: null };
  if (statusCode >= 300 && statusCode < 400) {
    return { ok: false, errorClass: "redirect", reason: `answered ${statusCode}: redirects are not followed` };
  }
  const text = http.STATUS_CODES[statusCode];
  return { ok: false, errorClass: "http_status", reason: `answered ${statusCode}${text ? ` ${text}` : ""}` };
}

type Exchanged = { statusCode: number; headers: Record<string, string | string[] | undefined>; bytes: Buffer; truncated: boolean };

/** The caller's handle on an exchange in progress. */
type Progress = {
  /** Ends the exchange now (the timeout). */
  abort: () => void;
  /** Set once the final status line arrived: a failure after it happened while reading the body. */
  statusCode: number | null;
};

/**
 * One request through undici's dispatch() with a handler of our own, rather than its
 * `request()`: that builds a promise, an async resource and a Readable stream per response.
 * Signed POSTs to a local receiver, 256 in flight, took 38-43 µs of the client's CPU per
 * request through `request()` and 31-33 µs through this, rounds alternating. The
 * body is kept up to MAX_RESPONSE_BYTES; past that the request is aborted (the connection
 * closes) and what arrived is the answer. `progress.abort` ends the exchange at any point;
 * before undici has started the request it takes effect the moment it does.
 */
function exchange(
  agent: Agent,
  options: { origin: string; path: string; method: "GET" | "POST"; headers: Record<string, string>; body?: string },
  progress: Progress,
): Promise<Exchanged> {
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | null = null;
    let wantsAbort = false;
    let settled = false;
    let statusCode = 0;
    let headers: Exchanged["headers"] = {};
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      wantsAbort = true;
      controller?.abort(Object.assign(new Error("the exchange was stopped"), { name: "AbortError" }));
    };
    progress.abort = stop;
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(started) {
        controller = started;
        if (wantsAbort) stop();
      },
      onResponseStart(_, status, responseHeaders) {
        // 1xx (100 Continue, 103 Early Hints): the final response is still to come.
        if (status < 200) return;
        statusCode = status;
        progress.statusCode = status;
        headers = responseHeaders as Exchanged["headers"];
      },
      onResponseData(_, chunk) {
        if (settled || statusCode === 0) return;
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_RESPONSE_BYTES) {
          settled = true;
          resolve({ statusCode, headers, bytes: Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES), truncated: true });
          stop();
        }
      },
      onResponseEnd() {
        if (settled) return;
        settled = true;
        resolve({ statusCode, headers, bytes: Buffer.concat(chunks), truncated: false });
      },
      onResponseError(_, error) {
        if (settled) return;
        settled = true;
        reject(error);
      },
    };
    try {
      agent.dispatch(options, handler);
    } catch (error) {
      handler.onResponseError!(null as never, error instanceof Error ? error : new Error(String(error)));
    }
  });
}

/**
 * Where undici sends a request. Kept per URL object: the dispatcher reuses one URL per
 * endpoint, and URL's getters (origin above all) were a share of every delivery's CPU.
 */
const addresses = new WeakMap<URL, { origin: string; path: string }>();
function addressOf(url: URL) {
  let address = addresses.get(url);
  if (!address) {
    address = { origin: url.origin, path: `${url.pathname}${url.search}` };
    addresses.set(url, address);
  }
  return address;
}

const headerText = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(", ") : value);

export async function sendOutbound(outbound: OutboundRequest, policy: DestinationPolicy = policyFromEnv()): Promise<OutboundResult> {
  const started = performance.now();
  // A timer cleared when the exchange ends: AbortSignal.timeout() keeps every signal and its
  // timer alive for the whole timeout (15 s), thousands at a time in a storm.
  const progress: Progress = { abort: () => {}, statusCode: null };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    progress.abort();
  }, outbound.timeoutMs);
  const elapsed = () => Math.round(performance.now() - started);
  let url: URL | null = null;
  try {
    url = typeof outbound.url === "string" ? new URL(outbound.url) : outbound.url;
    checkLiteralHost(url, policy);
    const { origin, path } = addressOf(url);
    // The timeout covers the whole exchange: a body that trickles in is cut off by it too.
    const response = await exchange(agentFor(policy), { origin, path, method: outbound.method, headers: outbound.headers, body: outbound.body }, progress);
    const status = describeStatus(response.statusCode);
    return {
      ...status,
      statusCode: response.statusCode,
      durationMs: elapsed(),
      responseExcerpt: responseExcerpt(response.bytes, { encoding: headerText(response.headers["content-encoding"]), truncated: response.truncated }),
      retryAfterSeconds: parseRetryAfter(response.headers["retry-after"]),
      certificate: certificateFor(url, null),
    };
  } catch (error) {
    const { errorClass, reason } = describeError(error, timedOut, outbound.timeoutMs);
    const { statusCode } = progress;
    return {
      ok: false,
      statusCode,
      errorClass,
      reason: statusCode === null ? reason : `answered ${statusCode}, then the response body failed: ${reason}`,
      durationMs: elapsed(),
      responseExcerpt: null,
      retryAfterSeconds: null,
      certificate: url ? certificateFor(url, errorCode(error)) : null,
    };
  } finally {
    clearTimeout(timer);
  }
}
