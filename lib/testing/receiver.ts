// A real HTTP server on 127.0.0.1 that records every request it gets, for tests that
// need something at the other end of a webhook.
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

export type Received = {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Name, value, name, value… as sent: Node's `headers` object drops a header named "__proto__". */
  rawHeaders: string[];
  body: string;
  at: number;
};

export type Reply = { status: number; headers?: Record<string, string>; body?: string } | "hang";
export type Responder = (request: Received) => Reply | Promise<Reply>;

export type Receiver = {
  url: string;
  port: number;
  requests: Received[];
  respond(responder: Responder): void;
  /** Resolves once `count` requests have arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
};

/** `tls`: serve https with this key and certificate (see lib/testing/certificates.ts). */
export async function startReceiver(responder: Responder = () => ({ status: 204 }), options: { tls?: { key: string; cert: string } } = {}): Promise<Receiver> {
  const requests: Received[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let current = responder;
  const hanging = new Set<http.ServerResponse>();

  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const received: Received = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      requests.push(received);
      for (const waiter of [...waiters]) {
        if (requests.length >= waiter.count) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      const reply = await current(received);
      if (reply === "hang") {
        hanging.add(res);
        return;
      }
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    });
  };
  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    requests,
    respond(next) {
      current = next;
    },
    waitFor(count, timeoutMs = 15_000) {
      if (requests.length >= count) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`receiver got ${requests.length} of ${count} requests in ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve(requests)) });
      });
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
