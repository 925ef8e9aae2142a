// The one function that sends HTTP to customer endpoints, for validation and delivery
// alike. It never follows redirects, enforces the destination policy at connect time,
// and turns every outcome into a short reason a person can act on. It never throws.
import http from "node:http";
import { Agent } from "undici";
import { certificateFor, recordingConnector, type CertificateSeen } from "@/lib/webhooks/delivery/tls";
import { BlockedDestinationError, checkLiteralHost, guardedLookup, policyFromEnv, SchemePolicyError, type DestinationPolicy } from "@/lib/webhooks/delivery/ssrf";
import { responseExcerpt } from "@/lib/webhooks/delivery/response-excerpt";
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
  /** Bytes as they are, or a string sent as UTF-8. */
  body?: string | Buffer;
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
  // Refused before sending: only a custom header stored before its value was checked as it is now can cause it.
  if (code === "UND_ERR_INVALID_ARG") {
    return { errorClass: "internal", reason: "the request could not be built: a custom header's value holds a character HTTP does not allow; edit the endpoint's custom headers" };
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

/** What came back: the status, the raw header list, and the body up to MAX_RESPONSE_BYTES. */
type Exchanged = { statusCode: number; rawHeaders: Buffer[]; bytes: Buffer; truncated: boolean };

/**
 * One request through undici's dispatcher, with a handler of our own rather than `request()`:
 * that one made a readable stream, an async resource and a parsed copy of every response header
 * per request, a share of every delivery's CPU and garbage in a storm; here the body's chunks
 * are kept as they come, and only the two headers read (headerValues) are ever decoded. One
 * object per request, its callbacks on the prototype: as closures, they and the state they shared
 * were a share of each delivery's garbage too.
 * `stop(reason)` ends the exchange (the timeout): at once, or as soon as undici hands it the
 * request. `statusCode` is known once the status line came: a failure after it happened while
 * reading the body. Past MAX_RESPONSE_BYTES the connection is dropped and the body kept, cut.
 */
class Exchange {
  statusCode = 0;
  timedOut = false;
  readonly done: Promise<Exchanged>;
  private rawHeaders: Buffer[] = [];
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;
  private abort: ((reason: Error) => void) | null = null;
  private stopped: Error | null = null;
  private resolve!: (exchanged: Exchanged) => void;
  private reject!: (error: Error) => void;

  constructor(agent: Agent, options: { origin: string; path: string; method: string; headers: Record<string, string>; body?: string | Buffer }) {
    this.done = new Promise<Exchanged>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    agent.dispatch(options, this);
  }

  stop(reason: Error) {
    this.stopped ??= reason;
    this.abort?.(reason);
  }

  onConnect(abortRequest: (reason: Error) => void) {
    this.abort = abortRequest;
    if (this.stopped) abortRequest(this.stopped);
  }

  onHeaders(code: number, headers: Buffer[]) {
    // 1xx: an informational answer; the final one follows.
    if (code < 200) return true;
    this.statusCode = code;
    this.rawHeaders = headers;
    return true;
  }

  onData(chunk: Buffer) {
    if (this.truncated) return true;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size >= MAX_RESPONSE_BYTES) {
      this.truncated = true;
      this.stop(new Error("the response body is longer than we keep"));
    }
    return true;
  }

  onComplete() {
    // Most answers are one chunk: kept as it came, not copied.
    const { chunks } = this;
    this.resolve({ statusCode: this.statusCode, rawHeaders: this.rawHeaders, bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), truncated: false });
  }

  onError(error: Error) {
    if (this.truncated && this.stopped === error) {
      this.resolve({ statusCode: this.statusCode, rawHeaders: this.rawHeaders, bytes: Buffer.concat(this.chunks).subarray(0, MAX_RESPONSE_BYTES), truncated: true });
    } else this.reject(error);
  }
}

/** The timeout of an exchange: setTimeout's argument, so no closure per request. */
function timeOut(exchange: Exchange) {
  exchange.timedOut = true;
  exchange.stop(new Error("timed out"));
}

/** The values of one response header (its name in lowercase), in the order they came. */
function headerValues(rawHeaders: Buffer[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const key = rawHeaders[i]!;
    if (key.length === name.length && key.toString("latin1").toLowerCase() === name) values.push(rawHeaders[i + 1]!.toString("latin1"));
  }
  return values;
}

/**
 * Where undici sends a request, and the policy its host last passed (checkLiteralHost). Kept per
 * URL object: the dispatcher reuses one URL per endpoint, and URL's getters (origin above all),
 * and parsing the host as an IP literal, were a share of every delivery's CPU. A policy is fixed
 * once made, and so is the URL: passed once, it passes again.
 */
type Address = { origin: string; path: string; passed: DestinationPolicy | null };
const addresses = new WeakMap<URL, Address>();
function addressOf(url: URL, policy: DestinationPolicy): Address {
  let address = addresses.get(url);
  if (!address) {
    address = { origin: url.origin, path: `${url.pathname}${url.search}`, passed: null };
    addresses.set(url, address);
  }
  if (address.passed !== policy) {
    checkLiteralHost(url, policy);
    address.passed = policy;
  }
  return address;
}

export async function sendOutbound(outbound: OutboundRequest, policy: DestinationPolicy = policyFromEnv()): Promise<OutboundResult> {
  const started = performance.now();
  // Cleared when the exchange ends: AbortSignal.timeout() kept every signal and its timer alive
  // for the whole timeout (15 s), thousands at a time in a storm. It covers the whole exchange: a
  // body that trickles in is cut off by it too.
  let timer: NodeJS.Timeout | undefined;
  let exchange: Exchange | null = null;
  let url: URL | null = null;
  try {
    url = typeof outbound.url === "string" ? new URL(outbound.url) : outbound.url;
    const { origin, path } = addressOf(url, policy);
    exchange = new Exchange(agentFor(policy), { origin, path, method: outbound.method, headers: outbound.headers, body: outbound.body });
    timer = setTimeout(timeOut, outbound.timeoutMs, exchange);
    const response = await exchange.done;
    const status = describeStatus(response.statusCode);
    return {
      ok: status.ok,
      errorClass: status.errorClass,
      reason: status.reason,
      statusCode: response.statusCode,
      durationMs: Math.round(performance.now() - started),
      responseExcerpt: responseExcerpt(response.bytes, { encoding: headerValues(response.rawHeaders, "content-encoding").join(", ") || undefined, truncated: response.truncated }),
      retryAfterSeconds: parseRetryAfter(headerValues(response.rawHeaders, "retry-after")[0]),
      certificate: certificateFor(url, null),
    };
  } catch (error) {
    const { errorClass, reason } = describeError(error, exchange?.timedOut ?? false, outbound.timeoutMs);
    // Known once the status line arrived: a failure after it happened while reading the body.
    const statusCode = exchange?.statusCode || null;
    return {
      ok: false,
      statusCode,
      errorClass,
      reason: statusCode === null ? reason : `answered ${statusCode}, then the response body failed: ${reason}`,
      durationMs: Math.round(performance.now() - started),
      responseExcerpt: null,
      retryAfterSeconds: null,
      certificate: url ? certificateFor(url, errorCode(error)) : null,
    };
  } finally {
    clearTimeout(timer);
  }
}
