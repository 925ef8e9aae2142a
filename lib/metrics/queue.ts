// The gauges that need SQL: the delivery queue, endpoints by status, and the workers listening.
// One statement computes them all, at most every SNAPSHOT_MS, shared by every scrape (and every
// scraper) that comes meanwhile: a scrape must not add measurable load to PostgreSQL.
import type pg from "pg";
import client from "prom-client";
import { pool as defaultPool, DB_NOW } from "@/lib/db";
import { metrics } from "@/lib/metrics/metrics";
import { WORKER_APPLICATION_NAME } from "@/lib/webhooks/delivery/wake";

const SNAPSHOT_MS = 5_000;
const ENDPOINT_STATUSES = ["pending", "active", "failed", "paused", "disabled"] as const;

type Snapshot = { due: number; oldestDueSeconds: number; waitingRetry: number; inFlight: number; workers: number; endpoints: Record<string, number> };

const QUERY = `
  WITH queued AS (
    SELECT
      count(*) FILTER (WHERE "nextAttemptAt" <= ${DB_NOW} AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" <= ${DB_NOW})) AS due,
      min("nextAttemptAt") FILTER (WHERE "nextAttemptAt" <= ${DB_NOW} AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" <= ${DB_NOW})) AS oldest,
      count(*) FILTER (WHERE status = 'retrying' AND "nextAttemptAt" > ${DB_NOW}) AS waiting,
      count(*) FILTER (WHERE "leaseExpiresAt" > ${DB_NOW}) AS leased
    FROM "Delivery"
    -- Queued and not parked (lib/webhooks/delivery/backlog.ts): Delivery_queued_idx holds exactly the queued rows.
    WHERE "nextAttemptAt" IS NOT NULL AND "nextAttemptAt" < '9999-12-31 00:00:00'
  ), events AS (
    -- New alerts' deliveries still in the event queue (lib/webhooks/delivery/event-queue.ts): as many as the endpoints each lists.
    SELECT
      COALESCE(sum(cardinality("endpointIds")) FILTER (WHERE "leaseExpiresAt" IS NULL OR "leaseExpiresAt" <= ${DB_NOW}), 0) AS due,
      min("createdAt") FILTER (WHERE "leaseExpiresAt" IS NULL OR "leaseExpiresAt" <= ${DB_NOW}) AS oldest,
      COALESCE(sum(cardinality("endpointIds")) FILTER (WHERE "leaseExpiresAt" > ${DB_NOW}), 0) AS leased
    FROM "EventQueue"
  )
  SELECT (q.due + ev.due)::int AS due, COALESCE(EXTRACT(EPOCH FROM ${DB_NOW} - LEAST(q.oldest, ev.oldest)), 0)::float8 AS "oldestDueSeconds",
         q.waiting::int AS "waitingRetry", (q.leased + ev.leased)::int AS "inFlight",
         (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1)::int AS workers,
         (SELECT COALESCE(json_object_agg(status, n), '{}') FROM (SELECT status, count(*)::int AS n FROM "WebhookEndpoint" GROUP BY status) e) AS endpoints
  FROM queued q, events ev`;

export function queueGauges(pool: pg.Pool = defaultPool) {
  let last: { at: number; value: Promise<Snapshot | null> } | null = null;
  const snapshot = () => {
    if (!last || Date.now() - last.at >= SNAPSHOT_MS) {
      last = {
        at: Date.now(),
        // A database that does not answer leaves the gauges out of this scrape rather than failing it.
        value: pool.query<Snapshot>(QUERY, [WORKER_APPLICATION_NAME]).then(
          ({ rows }) => rows[0]!,
          () => null,
        ),
      };
    }
    return last.value;
  };
  const { registry } = metrics();
  const gauge = (name: string, help: string, read: (s: Snapshot, set: (value: number, labels?: Record<string, string>) => void) => void, labelNames: string[] = []) =>
    new client.Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const s = await snapshot();
        if (s) read(s, (value, labels) => (labels ? this.set(labels, value) : this.set(value)));
      },
    });
  gauge("mon1tor_deliveries_due", "Deliveries due now and not in flight: what the workers have yet to send.", (s, set) => set(s.due));
  gauge("mon1tor_oldest_due_delivery_age_seconds", "How long the oldest due delivery has been waiting (0 when none is due).", (s, set) => set(s.oldestDueSeconds));
  gauge("mon1tor_deliveries_waiting_retry", "Deliveries whose last attempt failed, waiting for their next.", (s, set) => set(s.waitingRetry));
  gauge("mon1tor_deliveries_in_flight", "Deliveries a worker holds right now (leased).", (s, set) => set(s.inFlight));
  gauge("mon1tor_workers_listening", "Dispatch workers connected and listening for new deliveries.", (s, set) => set(s.workers));
  gauge(
    "mon1tor_endpoints",
    "Webhook endpoints by status: pending (validating), active, failed (validation failed), paused, disabled.",
    (s, set) => {
      for (const status of ENDPOINT_STATUSES) set(s.endpoints[status] ?? 0, { status });
    },
    ["status"],
  );
}

/** Registers the queue gauges once per process (the registry outlives Next's module reloads). */
export function registerQueueGauges() {
  const { off, registry } = metrics();
  if (!off && !registry.getSingleMetric("mon1tor_deliveries_due")) queueGauges();
}
