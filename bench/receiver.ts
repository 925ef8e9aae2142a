// The bench's receiver, in its own process: keep-alive HTTP on 127.0.0.1 that checks the
// x-mon1tor-sha256-wh signature of every POST and counts what arrived.
// Messages in: { secrets: { [pathPrefix]: secret } }, { hang: [pathPrefix] }, "stats", "reset".
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

type Stats = {
  received: number;
  invalid: number;
  duplicates: number;
  byPrefix: Record<string, { count: number; first: number; last: number }>;
  /** Receipt time (epoch ms) per alert id, for latency. */
  arrivals: [string, number][];
};

let secrets: Record<string, string> = {};
let hang = new Set<string>();
let trackArrivals = false;
let seen = new Set<string>();
let stats: Stats = fresh();

function fresh(): Stats {
  return { received: 0, invalid: 0, duplicates: 0, byPrefix: {}, arrivals: [] };
}

const prefixOf = (url: string) => url.split("/").slice(0, 3).join("/"); // "/ep/3"

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const prefix = prefixOf(req.url ?? "");
    if (hang.has(prefix)) return; // never answers: the sender's timeout has to fire
    const now = Date.now();
    const body = Buffer.concat(chunks);
    const secret = secrets[prefix];
    const signature = req.headers["x-mon1tor-sha256-wh"];
    const expected = secret ? crypto.createHmac("sha256", secret).update(body).digest("hex") : "";
    const valid =
      typeof signature === "string" && signature.length === expected.length && crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
    stats.received += 1;
    if (!valid) stats.invalid += 1;
    const id = String(req.headers["webhook-id"] ?? "");
    if (seen.has(id)) stats.duplicates += 1;
    else seen.add(id);
    const entry = (stats.byPrefix[prefix] ??= { count: 0, first: now, last: now });
    entry.count += 1;
    entry.last = now;
    if (trackArrivals) stats.arrivals.push([(JSON.parse(body.toString()) as { data: { alert: { id: string } } }).data.alert.id, now]);
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as AddressInfo).port }));

process.on("message", (message: unknown) => {
  if (message === "stats") return process.send!({ stats });
  if (message === "reset") {
    stats = fresh();
    seen = new Set();
    return process.send!({ reset: true });
  }
  const m = message as { secrets?: Record<string, string>; hang?: string[]; trackArrivals?: boolean };
  if (m.secrets) secrets = { ...secrets, ...m.secrets };
  if (m.hang) hang = new Set(m.hang);
  if (m.trackArrivals !== undefined) trackArrivals = m.trackArrivals;
  process.send!({ ok: true });
});
