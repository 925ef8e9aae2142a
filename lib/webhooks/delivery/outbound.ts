// The one function that sends HTTP to customer endpoints, for validation and delivery
// alike. It never follows redirects, enforces the destination policy at connect time,
// and turns every outcome into a short reason a person can act on. It never throws.
import { EventEmitter } from "node:events";
import http from "node:http";
import type { Readable } from "node:stream";
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

/**
 * Reads the body up to MAX_RESPONSE_BYTES; the request's signal bounds how long that may
 * take (aborting destroys the body with an error). Events rather than `for await`: the
 * async iterator was a measurable share of a delivery's CPU in a storm.
 */
function readBody(body: Readable): Promise<{ bytes: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_RESPONSE_BYTES) {
        settled = true;
        body.off("data", onData);
        body.destroy();
        resolve({ bytes: Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES), truncated: true });
      }
    };
    body.on("data", onData);
    body.once("end", () => {
      settled = true;
      resolve({ bytes: Buffer.concat(chunks), truncated: false });
    });
    body.once("error", (error) => {
      settled = true;
      reject(error);
    });
    // Closed without an end or an error: whatever arrived is not the whole body. (Every body
    // closes after its end too: the error is only built when it is the answer, as building
    // one, with its stack, for every delivery was 3% of the worker's CPU.)
    body.once("close", () => {
      if (!settled) reject(Object.assign(new Error("the response body ended early"), { code: "ECONNRESET" }));
    });
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
  // timer alive for the whole timeout (15 s), thousands at a time in a storm. The signal is an
  // EventEmitter, which undici accepts as well: an AbortController costs about 4 µs to create
  // and listen to, a few percent of a delivery's CPU.
  const signal = new EventEmitter();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    signal.emit("abort");
  }, outbound.timeoutMs);
  const elapsed = () => Math.round(performance.now() - started);
  // Known once the status line arrived: a failure after it happened while reading the body.
  let statusCode: number | null = null;
  let url: URL | null = null;
  try {
    url = typeof outbound.url === "string" ? new URL(outbound.url) : outbound.url;
    checkLiteralHost(url, policy);
    const { origin, path } = addressOf(url);
    const response = await agentFor(policy).request({ origin, path, method: outbound.method, headers: outbound.headers, body: outbound.body, signal });
    statusCode = response.statusCode;
    // The timeout covers the whole exchange: a body that trickles in is cut off by the same signal.
    const body = await readBody(response.body);
    const status = describeStatus(response.statusCode);
    return {
      ...status,
      statusCode: response.statusCode,
      durationMs: elapsed(),
      responseExcerpt: responseExcerpt(body.bytes, { encoding: headerText(response.headers["content-encoding"]), truncated: body.truncated }),
      retryAfterSeconds: parseRetryAfter(response.headers["retry-after"]),
      certificate: certificateFor(url, null),
    };
  } catch (error) {
    const { errorClass, reason } = describeError(error, timedOut, outbound.timeoutMs);
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
