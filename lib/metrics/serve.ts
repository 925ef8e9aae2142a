// Who may scrape, and what a scrape gets: the same for the web server's /api/metrics and the
// worker's metrics port (scripts/worker.ts).
import http from "node:http";
import { safeEqual } from "@/lib/crypto/tokens";
import { env, type ServerEnv } from "@/lib/env";
import { healthAnswer } from "@/lib/health";
import { metrics } from "@/lib/metrics/metrics";
import { registerQueueGauges } from "@/lib/metrics/queue";

/**
 * Bearer MON1TOR_METRICS_TOKEN, compared in constant time; or anyone when the operator set
 * MON1TOR_METRICS_PUBLIC. With neither, nobody: metrics are never open by accident.
 */
export function scrapeAllowed(authorization: string | null, config: Pick<ServerEnv, "MON1TOR_METRICS_TOKEN" | "MON1TOR_METRICS_PUBLIC"> = env()): boolean {
  const { MON1TOR_METRICS_TOKEN: token, MON1TOR_METRICS_PUBLIC: open } = config;
  if (open) return true;
  if (!token) return false;
  return safeEqual(authorization ?? "", `Bearer ${token}`);
}

export const SCRAPE_REFUSED = "Metrics need Authorization: Bearer $MON1TOR_METRICS_TOKEN.";

/** The exposition text and its content type. */
export async function exposition(): Promise<{ contentType: string; body: string }> {
  registerQueueGauges();
  const { registry } = metrics();
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/**
 * The worker's small server: GET /metrics (also /api/metrics), /api/health/live and
 * /api/health/ready, as the web server answers them. Anything else is a 404.
 */
export function startMetricsServer(port: number, log: (line: string) => void): http.Server {
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    void (async () => {
      if (req.method !== "GET" && req.method !== "HEAD") return json(res, 405, { error: { code: "method_not_allowed", message: "Use GET." } });
      if (path === "/api/health/live" || path === "/api/health/ready") {
        const answer = await healthAnswer(path.endsWith("live") ? "live" : "ready");
        return json(res, answer.status, answer.body);
      }
      if (path === "/metrics" || path === "/api/metrics") {
        if (!scrapeAllowed(req.headers.authorization ?? null)) {
          res.setHeader("www-authenticate", 'Bearer realm="mon1tor metrics"');
          return json(res, 401, { error: { code: "unauthorized", message: SCRAPE_REFUSED } });
        }
        const { contentType, body } = await exposition();
        res.writeHead(200, { "content-type": contentType }).end(body);
        return;
      }
      json(res, 404, { error: { code: "not_found", message: "Served here: /metrics, /api/health/live, /api/health/ready." } });
    })().catch(() => json(res, 500, { error: { code: "internal", message: "Something went wrong on our side." } }));
  });
  server.listen(port, () => log(`metrics and health on port ${port}`));
  server.on("error", (error) => log(`metrics server: ${error.message}`));
  return server;
}
