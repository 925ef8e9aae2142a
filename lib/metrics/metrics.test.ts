// The metrics as Prometheus reads them: every name with its type, counters that move with real
// deliveries through a real receiver, queue gauges read from PostgreSQL, and scrapes refused
// without the token.
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptAlert } from "@/lib/alerts/accept";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db } from "@/lib/db";
import { metrics, withTeam } from "@/lib/metrics/metrics";
import { exposition, scrapeAllowed, startMetricsServer } from "@/lib/metrics/serve";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { limits } from "@/lib/rate-limit";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver((request) => (request.path.startsWith("/down/") ? { status: 503 } : { status: 200 }));
});
afterAll(() => receiver.close());

/** A series' value in the exposition text, summed over every label set matching `labels`. */
function valueOf(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => set[k] === v)) sum += Number(match[3]);
  }
  return sum;
}

const scrape = async () => (await exposition()).body;

describe("metrics", () => {
  it("exports each metric under its name and type", async () => {
    const text = await scrape();
    const types = Object.fromEntries([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    expect(types).toMatchObject({
      mon1tor_alerts_accepted_total: "counter",
      mon1tor_alerts_deduplicated_total: "counter",
      mon1tor_alerts_refused_total: "counter",
      mon1tor_deliveries_total: "counter",
      mon1tor_delivery_attempts_total: "counter",
      mon1tor_notifications_total: "counter",
      mon1tor_endpoint_auto_disables_total: "counter",
      mon1tor_ingest_duration_seconds: "histogram",
      mon1tor_delivery_attempt_duration_seconds: "histogram",
      mon1tor_alert_to_first_attempt_seconds: "histogram",
      mon1tor_claim_duration_seconds: "histogram",
      mon1tor_record_batch_duration_seconds: "histogram",
      mon1tor_deliveries_due: "gauge",
      mon1tor_oldest_due_delivery_age_seconds: "gauge",
      mon1tor_deliveries_waiting_retry: "gauge",
      mon1tor_workers_listening: "gauge",
      mon1tor_endpoints: "gauge",
      mon1tor_process_cpu_seconds_total: "counter",
    });
    // Bounded labels: nothing names an endpoint, a URL or a delivery.
    expect(text).not.toMatch(/endpoint_id=|url=|delivery=|127\.0\.0\.1/);
  });

  it("counters and histograms move with real deliveries, per team when asked", async () => {
    const team = await createTeam();
    await createActiveEndpoint(team.id, `${receiver.url}/up/${team.id}`);
    await createActiveEndpoint(team.id, `${receiver.url}/down/${team.id}`);
    const before = await scrape();
    // The failing endpoint's third failure in a row notifies the team, its fifth disables it.
    const dispatcher = new Dispatcher({ timeoutMs: 2_000, random: () => 0.5, failurePolicy: { notifyAt: [3], disableAfterFailures: 5, disableAfterDays: 5 } });
    for (const [from, to] of [[0, 3], [3, 5]]) {
      for (let i = from!; i < to!; i++) {
        await db.$transaction((tx) => ingestAlert(tx, team, { title: `metrics ${i}`, severity: "warning", status: "triggered" }));
      }
      await dispatcher.drain();
    }
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    // The suite runs with MON1TOR_METRICS_TEAM_LABEL: this team's series are its own.
    expect(delta("mon1tor_deliveries_total", { outcome: "delivered", team: team.id })).toBe(5);
    expect(delta("mon1tor_deliveries_total", { outcome: "retried", team: team.id })).toBe(5);
    expect(delta("mon1tor_delivery_attempts_total", { class: "2xx" })).toBeGreaterThanOrEqual(5);
    expect(delta("mon1tor_delivery_attempts_total", { class: "5xx" })).toBeGreaterThanOrEqual(5);
    expect(delta("mon1tor_notifications_total", { kind: "endpoint_failing" })).toBeGreaterThanOrEqual(1);
    expect(delta("mon1tor_notifications_total", { kind: "endpoint_disabled" })).toBeGreaterThanOrEqual(1);
    expect(delta("mon1tor_endpoint_auto_disables_total")).toBeGreaterThanOrEqual(1);
    expect(delta("mon1tor_delivery_attempt_duration_seconds_count")).toBeGreaterThanOrEqual(10);
    expect(delta("mon1tor_alert_to_first_attempt_seconds_count")).toBeGreaterThanOrEqual(10);
    expect(delta("mon1tor_claim_duration_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(delta("mon1tor_record_batch_duration_seconds_count")).toBeGreaterThanOrEqual(1);
  });

  it("a newer state queued over an older, unsent one counts the older as superseded once the call commits", async () => {
    const team = await createTeam();
    await createActiveEndpoint(team.id, `${receiver.url}/up/${team.id}`);
    const limit = limits.alertApiPerKey(`metrics-${team.id}`);
    const before = await scrape();
    const input = { title: "db down", severity: "critical" as const, dedupKey: `db-${team.id}` };
    await acceptAlert(team, { ...input, status: "triggered" }, { limit, idempotency: null });
    await acceptAlert(team, { ...input, status: "resolved" }, { limit, idempotency: null });
    const after = await scrape();
    expect(valueOf(after, "mon1tor_deliveries_total", { outcome: "superseded", team: team.id }) - valueOf(before, "mon1tor_deliveries_total", { outcome: "superseded", team: team.id })).toBe(1);
  });

  it("queue gauges come from PostgreSQL, one snapshot shared by scrapes within a few seconds", async () => {
    // The first test's scrape read an empty database; its snapshot serves scrapes for 5 s.
    let text = await scrape();
    for (let waited = 0; valueOf(text, "mon1tor_endpoints", { status: "active" }) === 0 && waited < 10_000; waited += 250) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      text = await scrape();
    }
    expect(valueOf(text, "mon1tor_endpoints", { status: "active" })).toBeGreaterThan(0);
    // The last test's failing endpoint was disabled (its retries parked).
    expect(valueOf(text, "mon1tor_endpoints", { status: "disabled" })).toBeGreaterThanOrEqual(1);
    expect(valueOf(text, "mon1tor_oldest_due_delivery_age_seconds")).toBeGreaterThanOrEqual(0);
    expect(valueOf(await scrape(), "mon1tor_deliveries_waiting_retry")).toBe(valueOf(text, "mon1tor_deliveries_waiting_retry"));
  });

  it("a scrape needs the token, unless the operator made metrics public", () => {
    const token = "a-metrics-token-of-some-length";
    expect(scrapeAllowed(`Bearer ${token}`, { MON1TOR_METRICS_TOKEN: token, MON1TOR_METRICS_PUBLIC: false })).toBe(true);
    expect(scrapeAllowed(`Bearer ${token}x`, { MON1TOR_METRICS_TOKEN: token, MON1TOR_METRICS_PUBLIC: false })).toBe(false);
    expect(scrapeAllowed(null, { MON1TOR_METRICS_TOKEN: token, MON1TOR_METRICS_PUBLIC: false })).toBe(false);
    expect(scrapeAllowed(token, { MON1TOR_METRICS_TOKEN: token, MON1TOR_METRICS_PUBLIC: false })).toBe(false);
    // No token configured: closed, never open by accident.
    expect(scrapeAllowed("Bearer ", { MON1TOR_METRICS_TOKEN: undefined, MON1TOR_METRICS_PUBLIC: false })).toBe(false);
    expect(scrapeAllowed(null, { MON1TOR_METRICS_TOKEN: undefined, MON1TOR_METRICS_PUBLIC: true })).toBe(true);
  });

  it("the worker's metrics port: 401 revealing nothing without the token, metrics with it, health probes open", async () => {
    const server = startMetricsServer(0, () => {});
    await new Promise((resolve) => server.once("listening", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const refused = await fetch(`${base}/metrics`);
      expect(refused.status).toBe(401);
      const body = await refused.text();
      expect(body).not.toMatch(/mon1tor_/);
      expect((await fetch(`${base}/metrics`, { headers: { authorization: "Bearer wrong-token-wrong-token" } })).status).toBe(401);
      const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${process.env.MON1TOR_METRICS_TOKEN}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/^# TYPE mon1tor_deliveries_total counter$/m);
      expect(await (await fetch(`${base}/api/health/live`)).json()).toEqual({ status: "ok" });
      // Migrations here are applied straight from SQL (no _prisma_migrations): not ready, and it says why.
      const ready = await fetch(`${base}/api/health/ready`);
      expect([200, 503]).toContain(ready.status);
      expect(await ready.json()).toMatchObject({ database: "ok" });
      expect((await fetch(`${base}/nothing`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  // Last: it fills the process's team slots.
  it("the team label is capped: teams past the limit share team=\"other\"", () => {
    const { teams } = metrics();
    expect(teams.on).toBe(true);
    const labels = Array.from({ length: teams.limit + 5 }, (_, i) => withTeam({ source: "api" }, `team-${i}`).team);
    expect(new Set(labels).size).toBeLessThanOrEqual(teams.limit + 1);
    expect(labels.slice(-5)).toEqual(["other", "other", "other", "other", "other"]);
    // A team seen before keeps its own series.
    expect(withTeam({ source: "api" }, labels[0]!).team).toBe(labels[0]);
  });
});
