// Prometheus metrics (prom-client): every metric this process exports, defined here and only
// here. The web server serves them at /api/metrics, each worker on MON1TOR_METRICS_PORT
// (lib/metrics/serve.ts). Counters and histograms move where the work happens; the queue
// gauges read PostgreSQL at most every few seconds (lib/metrics/queue.ts).
//
// Label cardinality is bounded: no label carries an endpoint, a URL or a team by default.
// Operators who want alerts and deliveries per team set MON1TOR_METRICS_TEAM_LABEL: the first
// MON1TOR_METRICS_TEAM_LABEL_LIMIT teams this process sees get their own series, the rest
// share team="other", so a tenant count in the thousands cannot blow up Prometheus.
import client from "prom-client";
import type { ErrorClass } from "@/lib/webhooks/delivery/outbound";

/** Histogram buckets, in seconds. */
const FAST = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const NETWORK = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const QUEUE = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

export type DeliveryOutcome = "delivered" | "failed" | "retried" | "expired" | "superseded" | "quarantined";
export type AttemptClass = "2xx" | "3xx" | "4xx" | "5xx" | "timeout" | "network" | "ssrf_refused" | "internal";
export type IngestSource = "api" | "batch" | "alertmanager";

function teamLabelConfig() {
  const on = ["1", "true"].includes(process.env.MON1TOR_METRICS_TEAM_LABEL ?? "");
  const limit = Number(process.env.MON1TOR_METRICS_TEAM_LABEL_LIMIT ?? 50);
  return { on, limit: Number.isInteger(limit) && limit > 0 ? Math.min(limit, 1_000) : 50 };
}

/** MON1TOR_METRICS=off: nothing is measured (the bench's A/B of what measuring costs); scrapes get an empty page. */
const metricsOff = () => process.env.MON1TOR_METRICS === "off";
const noop = { inc() {}, observe() {}, startTimer: () => () => 0 };

function create() {
  const registry = new client.Registry();
  const off = metricsOff();
  if (!off) client.collectDefaultMetrics({ register: registry, prefix: "mon1tor_" });
  const teams = teamLabelConfig();
  const teamLabels = teams.on ? (["team"] as const) : ([] as const);
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    off ? (noop as unknown as client.Counter<L>) : new client.Counter<L>({ name, help, labelNames, registers: [registry] });
  const histogram = <L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) =>
    off ? (noop as unknown as client.Histogram<L>) : new client.Histogram<L>({ name, help, buckets, labelNames, registers: [registry] });
  return {
    registry,
    off,
    teams: { ...teams, seen: new Set<string>() },
    alertsAccepted: counter("mon1tor_alerts_accepted_total", "Alerts accepted (new, not idempotent replays), by the route they came through.", ["source", ...teamLabels]),
    alertsDeduplicated: counter("mon1tor_alerts_deduplicated_total", "Alert calls answered from an earlier one with the same Idempotency-Key.", ["source"]),
    alertsRefused: counter("mon1tor_alerts_refused_total", "Alert calls (or batch items) refused, by the error code answered.", ["source", "reason"]),
    ingestDuration: histogram("mon1tor_ingest_duration_seconds", "Alert API calls, from the request to the answer.", FAST, ["source"]),
    deliveries: counter("mon1tor_deliveries_total", "Deliveries that reached an outcome: delivered, failed (gave up), retried (an attempt failed, another is scheduled), expired, superseded or quarantined.", ["outcome", ...teamLabels]),
    attempts: counter("mon1tor_delivery_attempts_total", "Attempts by what came back: a status class, timeout, network error, or refused by the SSRF guard.", ["class"]),
    attemptDuration: histogram("mon1tor_delivery_attempt_duration_seconds", "Each attempt, from the request to the receiver's answer or the timeout.", NETWORK),
    alertToFirstAttempt: histogram("mon1tor_alert_to_first_attempt_seconds", "From an alert's delivery being queued to its first attempt starting.", QUEUE),
    claimDuration: histogram("mon1tor_claim_duration_seconds", "One claim of due deliveries (its transaction: choosing, then taking).", FAST),
    recordDuration: histogram("mon1tor_record_batch_duration_seconds", "Writing one batch of attempt outcomes (one transaction).", FAST),
    notifications: counter("mon1tor_notifications_total", "Notifications raised for teams: endpoint_failing, endpoint_disabled.", ["kind"]),
    autoDisables: counter("mon1tor_endpoint_auto_disables_total", "Endpoints the failure policy disabled.", []),
  };
}

type Metrics = ReturnType<typeof create>;
const global = globalThis as unknown as { mon1torMetrics?: Metrics };

/** This process's metrics, created once (Next's dev server reloads modules; the registry stays). */
export function metrics(): Metrics {
  global.mon1torMetrics ??= create();
  return global.mon1torMetrics;
}

/**
 * `metric.labels(...)` for one label set (none, for a histogram without labels), looked up once
 * and kept: on the hot path (an attempt, a recorded batch) an inc() with a labels object hashes
 * the labels every call, and each observe() made a labels object and a closure.
 */
const children = new WeakMap<object, Map<string, object>>();
export function child(metric: client.Counter<string>, labels: Record<string, string>): { inc(value?: number): void };
export function child(metric: client.Histogram<string>, labels?: Record<string, string>): { observe(value: number): void };
export function child(metric: client.Counter<string> | client.Histogram<string>, labels: Record<string, string> = {}): object {
  let byKey = children.get(metric);
  if (!byKey) children.set(metric, (byKey = new Map()));
  const key = Object.values(labels).join("\u0000");
  let found = byKey.get(key);
  if (!found) {
    found = metrics().off ? noop : metric.labels(labels);
    byKey.set(key, found);
  }
  return found;
}

/** The label set for a series with an (opt-in) team label. */
export function withTeam<L extends Record<string, string>>(labels: L, teamId: string | null | undefined): L & { team?: string } {
  const { teams } = metrics();
  if (!teams.on) return labels;
  let team = "other";
  if (teamId && (teams.seen.has(teamId) || teams.seen.size < teams.limit)) {
    teams.seen.add(teamId);
    team = teamId;
  }
  return { ...labels, team };
}

/** The attempt class of an outcome: a status class when the receiver answered, else what went wrong. */
export function attemptClass(result: { statusCode: number | null; errorClass: ErrorClass | null }): AttemptClass {
  if (result.errorClass === "blocked") return "ssrf_refused";
  if (result.errorClass === "timeout") return "timeout";
  if (result.errorClass === "internal") return "internal";
  const code = result.statusCode;
  if (code !== null && code >= 200 && code < 600) return `${Math.floor(code / 100)}xx` as AttemptClass;
  return "network";
}

/**
 * Counts what an alert call answered, item by item: new alerts, idempotent replays, and (for a
 * batch) items refused on their own. A call refused whole is counted by lib/api/api-key-route.ts.
 */
export function countAccepted(
  source: IngestSource,
  teamId: string,
  results: { status: "accepted" | "deduplicated" | "ignored" | "refused"; replayed?: boolean; error?: { code: string } }[],
) {
  const m = metrics();
  for (const result of results) {
    if (result.status === "refused") m.alertsRefused.inc({ source, reason: result.error?.code ?? "unknown" });
    else if (result.status === "ignored") continue;
    else if (result.replayed) m.alertsDeduplicated.inc({ source });
    else m.alertsAccepted.inc(withTeam({ source }, teamId));
  }
}
