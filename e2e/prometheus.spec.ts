// A real Prometheus (Debian's `prometheus`, installed by `npm test`) scraping `npm start` as an
// operator runs it: the web server's /api/metrics and the worker's metrics port, with the bearer
// token, every second, while alerts flow to a slow receiver. Its own query API then has to agree
// with what the receiver saw; the example alert rules load; every dashboard query parses.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { startReceiver, type Receiver } from "../lib/testing/receiver";
import { stopProcess } from "../lib/testing/worker-process";
import { freePort } from "../scripts/lib/embedded-postgres";
import { addActiveEndpoint, createApiKey, freshDatabase, newAccount, signUp } from "./helpers";

const PROMETHEUS = process.env.PROMETHEUS_PATH ?? "/usr/bin/prometheus";
const PROMTOOL = path.join(path.dirname(PROMETHEUS), "promtool");
const TOKEN = "prometheus-e2e-token-0123456789";
const RULES = path.resolve("docs/prometheus/alerts.yml");
const ALERTS = 150;

let receiver: Receiver;
let app: ChildProcess | undefined;
let prometheus: ChildProcess | undefined;
let workDir: string | undefined;
const output: string[] = [];

test.afterAll(async () => {
  if (prometheus) await stopProcess(prometheus);
  if (app) await stopProcess(app);
  await receiver?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test("Prometheus scrapes the app and a worker: its figures match what the receiver saw", async ({ browser }) => {
  test.setTimeout(240_000);
  // Slow enough that deliveries queue up behind the ones in flight, so the oldest-due gauge rises.
  receiver = await startReceiver(async (r) => {
    if (r.method === "POST" && r.path.startsWith("/slow/")) await new Promise((resolve) => setTimeout(resolve, 4_000));
    return { status: 200 };
  });
  const port = await freePort();
  const workerMetricsPort = await freePort();
  const baseURL = `http://localhost:${port}`;
  app = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: String(port),
      NEXTAUTH_URL: baseURL,
      DATABASE_URL: await freshDatabase("prometheus"),
      MON1TOR_METRICS_TOKEN: TOKEN,
      MON1TOR_METRICS_PORT: String(workerMetricsPort),
      MON1TOR_METRICS_TEAM_LABEL: "false",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  app.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  app.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  await expect.poll(async () => (await fetch(`${baseURL}/api/health/ready`).catch(() => null))?.status ?? 0, { timeout: 90_000, message: output.join("") }).toBe(200);
  expect(await (await fetch(`${baseURL}/api/health/live`)).json()).toEqual({ status: "ok" });
  const worker = `http://127.0.0.1:${workerMetricsPort}`;
  await expect.poll(async () => (await fetch(`${worker}/api/health/ready`).catch(() => null))?.status ?? 0, { timeout: 30_000, message: output.join("") }).toBe(200);

  // Without the token, or with a wrong one: 401, and not a single metric.
  for (const url of [`${baseURL}/api/metrics`, `${worker}/metrics`]) {
    for (const headers of [{}, { authorization: "Bearer not-the-token-at-all" }, { authorization: TOKEN }] as Record<string, string>[]) {
      const refused = await fetch(url, { headers });
      expect(refused.status, `${url} ${JSON.stringify(headers)}`).toBe(401);
      expect(await refused.text()).not.toMatch(/mon1tor_|process_/);
    }
  }

  workDir = fs.mkdtempSync(path.join(os.tmpdir(), "mon1tor-prometheus-"));
  const prometheusPort = await freePort();
  const job = (name: string, target: string, metricsPath: string) => `
  - job_name: ${name}
    scrape_interval: 1s
    scrape_timeout: 1s
    metrics_path: ${metricsPath}
    authorization:
      type: Bearer
      credentials: ${TOKEN}
    static_configs:
      - targets: ["${target}"]`;
  fs.writeFileSync(
    path.join(workDir, "prometheus.yml"),
    `global:\n  evaluation_interval: 1s\nrule_files:\n  - ${RULES}\nscrape_configs:${job("mon1tor-web", `localhost:${port}`, "/api/metrics")}${job("mon1tor-worker", `127.0.0.1:${workerMetricsPort}`, "/metrics")}\n`,
  );
  prometheus = spawn(
    PROMETHEUS,
    [`--config.file=${path.join(workDir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(workDir, "data")}`, `--web.listen-address=127.0.0.1:${prometheusPort}`],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  prometheus.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  prometheus.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const api = `http://127.0.0.1:${prometheusPort}/api/v1`;
  /** An instant query's single value (the first series), or null when it has none. */
  const query = async (promql: string): Promise<number | null> => {
    const response = await fetch(`${api}/query?query=${encodeURIComponent(promql)}`).catch(() => null);
    if (!response?.ok) return null;
    const { data } = (await response.json()) as { data: { result: { value: [number, string] }[] } };
    return data.result.length > 0 ? Number(data.result[0]!.value[1]) : null;
  };
  await expect.poll(() => query(`sum(up{job=~"mon1tor-.*"})`), { timeout: 60_000, message: output.join("") }).toBe(2);
  // The example rules loaded without errors.
  const rules = (await (await fetch(`${api}/rules`)).json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } };
  expect(rules.data.groups.flatMap((g) => g.rules.map((r) => `${r.name} ${r.health}`)).sort()).toEqual(
    ["Mon1torDeliveriesBehind ok", "Mon1torDeliveryFailureRatioHigh ok", "Mon1torNoWorkerListening ok"],
  );
  await expect.poll(() => query("max(mon1tor_workers_listening)"), { timeout: 30_000 }).toBe(1);

  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signUp(page, newAccount("prometheus"));
  await addActiveEndpoint(page, `${receiver.url}/slow/hook`);
  const key = await createApiKey(page);
  const alerts = Array.from({ length: ALERTS }, (_, i) => ({ title: `scraped ${i}`, severity: "warning" }));
  const response = await fetch(`${baseURL}/api/v1/alerts/batch`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ alerts }),
  });
  expect(response.status).toBe(200);

  // At most 64 in flight per endpoint in each process, 4 s each: the rest wait, and the gauge shows it.
  await expect.poll(() => query("max_over_time(mon1tor_oldest_due_delivery_age_seconds[5m])"), { timeout: 60_000, message: output.join("") }).toBeGreaterThanOrEqual(2);
  const received = () => new Set(receiver.requests.filter((r) => r.method === "POST" && r.path === "/slow/hook").map((r) => String(r.headers["webhook-id"]))).size;
  await expect.poll(received, { timeout: 120_000, message: output.join("") }).toBe(ALERTS);
  // Counted by whichever process sent each one; summed over both targets, exactly what arrived.
  await expect.poll(() => query("sum(mon1tor_deliveries_total)"), { timeout: 30_000 }).toBe(ALERTS);
  expect(await query(`sum(mon1tor_deliveries_total{outcome="delivered"})`)).toBe(ALERTS);
  expect(await query(`sum(mon1tor_delivery_attempts_total{class="2xx"})`)).toBe(ALERTS);
  expect(await query(`sum(mon1tor_alerts_accepted_total{source="batch"})`)).toBe(ALERTS);
  expect(await query(`sum(mon1tor_alert_to_first_attempt_seconds_count)`)).toBe(ALERTS);
  expect(await query(`max(mon1tor_endpoints{status="active"})`)).toBe(1);
  await expect.poll(() => query("max(mon1tor_oldest_due_delivery_age_seconds)"), { timeout: 30_000 }).toBe(0);
  // Nothing secret in any series: not the receiver's address, not the token.
  const series = await (await fetch(`${api}/series?match[]=${encodeURIComponent('{__name__=~"mon1tor_.+"}')}`)).text();
  expect(series).not.toContain(receiver.url.replace("http://", ""));
  expect(series).not.toContain(TOKEN);

  // Every query of the Grafana dashboard parses and runs.
  const dashboard = JSON.parse(fs.readFileSync("docs/grafana/mon1tor-dashboard.json", "utf8")) as { panels: { title: string; targets: { expr: string }[] }[] };
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      const promql = target.expr.replaceAll("$__rate_interval", "1m");
      const answer = (await (await fetch(`${api}/query?query=${encodeURIComponent(promql)}`)).json()) as { status: string; error?: string };
      expect(answer, `${panel.title}: ${promql}`).toMatchObject({ status: "success" });
    }
  }
  // And promtool, as an operator would run it before loading the rules.
  const check = spawnSync(PROMTOOL, ["check", "rules", RULES], { encoding: "utf8" });
  expect(check.status, check.stdout + check.stderr).toBe(0);
});
