// The alert calls (/api/v1/alerts, /batch, the Alertmanager receiver), served in front of Next
// by the same route handlers Next serves them with (lib/alerts/admission.ts hands them over).
//
// `next start` spends about a millisecond of CPU on every request before a route runs: its
// floor in the bench, 990 answers a second, was the ceiling of the single-alert API, and under
// a storm the web process had no CPU left to turn the surplus away quickly. The handlers need
// nothing of Next but `after()`, which `afterAnswer` stands in for here. Every other route, and
// every other method on these, goes to Next. Answers carry the same security headers as Next's.
import { AsyncLocalStorage } from "node:async_hooks";
import type http from "node:http";
import { after, NextResponse } from "next/server";
import { securityHeaders } from "@/lib/http/security-headers.mjs";
import { inServerSpan } from "@/lib/telemetry/tracing";

/** Lower-cased, as Node writes them. */
export const SECURITY_HEADERS: Record<string, string> = Object.fromEntries(securityHeaders(process.env.NODE_ENV === "production").map(({ key, value }) => [key.toLowerCase(), value]));

/** Work to run once the answer is sent, for each call served here. */
const answered = new AsyncLocalStorage<(() => unknown)[]>();

/** Runs `work` once the answer is sent: Next's after() inside Next, this front's own queue in front of it. */
export function afterAnswer(work: () => unknown) {
  const queue = answered.getStore();
  if (queue) queue.push(work);
  else after(work);
}

export type RouteHandler = (request: Request) => Promise<Response>;

/**
 * A call's body, read only when its handler asks (readJsonBody), straight off the socket. Not a
 * web stream: in Node 20 each one cost as much as the rest of the call's parsing (`makeTransferable`
 * and the reads were a sixth of the web process's CPU per alert in the bench's profile). Discarding
 * it (a body refused as too large, or one the handler never read) drops the rest as it arrives
 * instead of destroying the socket, so the answer still reaches the client.
 */
export type FrontBody = {
  /** The whole body, or null once it passed `maxBytes` (the rest is then discarded). */
  read(maxBytes: number): Promise<Buffer | null>;
  discard(): void;
};

function bodyOf(incoming: http.IncomingMessage): FrontBody {
  let discarded = false;
  const discard = () => {
    discarded = true;
    incoming.resume();
  };
  const read = (maxBytes: number) =>
    new Promise<Buffer | null>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const settle = () => {
        incoming.off("data", onData);
        incoming.off("end", onEnd);
        incoming.off("error", onError);
        incoming.off("close", onClose);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > maxBytes) {
          settle();
          discard();
          resolve(null);
        } else chunks.push(chunk);
      };
      const onEnd = () => {
        settle();
        resolve(Buffer.concat(chunks, size));
      };
      const onError = (error: Error) => {
        settle();
        reject(error);
      };
      // Closed before its end: the client went away mid-body.
      const onClose = () => onError(Object.assign(new Error("the request body ended early"), { code: "ECONNRESET" }));
      if (discarded || incoming.readableEnded) return reject(new Error("the request body was already read"));
      incoming.on("data", onData);
      incoming.once("end", onEnd);
      incoming.once("error", onError);
      incoming.once("close", onClose);
    });
  return { read, discard };
}

/** The bodies of the calls being served here, for readJsonBody: their Requests are built without one. */
const frontBodies = new WeakMap<Request, FrontBody>();
/** The body of `request` if this front serves it (read it with `read`), else null: read `request.body`. */
export const frontBodyOf = (request: Request): FrontBody | null => frontBodies.get(request) ?? null;

/** The JSON text of the answers built by jsonAnswer() here, sent as they are. */
const jsonBodies = new WeakMap<Response, string>();

/**
 * A JSON answer: NextResponse.json() inside Next; in front of it, a Response with no body stream,
 * its text kept aside for serveInFront (the same status, headers and bytes).
 */
export function jsonAnswer(body: unknown, init: { status: number; headers?: Record<string, string> }): Response {
  if (!answered.getStore()) return NextResponse.json(body, init);
  const response = new Response(null, { status: init.status, headers: { ...init.headers, "content-type": "application/json" } });
  jsonBodies.set(response, JSON.stringify(body));
  return response;
}

/**
 * Waits until the client has sent its whole body (read and dropped), at most 10 s. Answered while
 * still sending (a 413 for a 2 MB body refused by its Content-Length), fetch's client reset the
 * connection, and the next call it sent on that connection failed (the fuzz test, in CI).
 */
async function bodySent(incoming: http.IncomingMessage) {
  if (incoming.complete) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    incoming.once("end", done);
    incoming.once("close", done);
    incoming.once("error", done);
  });
}

function requestOf(incoming: http.IncomingMessage, body: FrontBody): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < incoming.rawHeaders.length; i += 2) headers.append(incoming.rawHeaders[i]!, incoming.rawHeaders[i + 1]!);
  const url = new URL(incoming.url ?? "/", `http://${incoming.headers.host ?? "localhost"}`);
  const request = new Request(url, { method: incoming.method, headers });
  frontBodies.set(request, body);
  return request;
}

/** Answers one call with `handler`, as Next would: its status, headers and body, then its after-work. */
export async function serveInFront(handler: RouteHandler, incoming: http.IncomingMessage, outgoing: http.ServerResponse) {
  const afterwards: (() => unknown)[] = [];
  const requestBody = bodyOf(incoming);
  try {
    const path = new URL(incoming.url ?? "/", "http://localhost").pathname;
    const response = await answered.run(afterwards, () =>
      inServerSpan(`${incoming.method} ${path}`, incoming.headers, { "http.request.method": incoming.method ?? "", "http.route": path }, () =>
        handler(requestOf(incoming, requestBody)),
      ),
    );
    const json = jsonBodies.get(response);
    const body = json === undefined ? Buffer.from(await response.arrayBuffer()) : Buffer.from(json);
    // What the handler did not read (a call refused before its body) is dropped as it arrives.
    requestBody.discard();
    await bodySent(incoming);
    const headers: Record<string, string> = { ...SECURITY_HEADERS };
    response.headers.forEach((value, key) => (headers[key] = value));
    headers["content-length"] = String(body.byteLength);
    outgoing.writeHead(response.status, headers);
    outgoing.end(body);
  } catch (error) {
    // The handlers answer their own errors (apiRoute): this is a bug, answered as Next would.
    console.error("[mon1tor] route failed:", error instanceof Error ? error.stack : error);
    if (!outgoing.headersSent) outgoing.writeHead(500, { ...SECURITY_HEADERS, "content-type": "application/json" });
    outgoing.end(JSON.stringify({ error: { code: "internal", message: "Something went wrong on our side. Please retry." } }));
  } finally {
    if (!incoming.complete) requestBody.discard();
  }
  for (const work of afterwards) {
    void Promise.resolve()
      .then(work)
      .catch((error: unknown) => console.error("[mon1tor] after the answer:", error instanceof Error ? error.message : error));
  }
}
