// Endpoint health, watched like a monitor: success rate, p50/p95 response time and the
// current run of failures, over 24 h and 7 d.
//
// Every recorded batch adds its attempts to one row per endpoint and hour
// (EndpointHealthHour, lib/webhooks/delivery/health-hours.ts), so reading health never touches the delivery or attempt log: a
// team's overview reads at most 24 rows per endpoint, however many deliveries there are.
// Response times are kept as a histogram per hour (LATENCY_BUCKETS_MS), and percentiles
// are interpolated within their bucket, as Prometheus does; the bucket edges are at most
// a third apart, so an estimate is never further off than that.

/**
 * Upper edges (ms, exclusive) of the latency buckets. Bucket i holds [edge i-1, edge i);
 * the last bucket holds everything from 60 s up. Changing these needs a migration of
 * EndpointHealthHour.latency (the endpoint_health migration copies them).
 */
export const LATENCY_BUCKETS_MS = [
  1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400, 500, 600, 800, 1000, 1200,
  1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 15000, 20000, 25000, 30000, 40000, 50000, 60000,
] as const;
export const BUCKET_COUNT = LATENCY_BUCKETS_MS.length + 1;

/** The bucket a response time falls in: how many edges are at or below it. */
export function bucketOf(durationMs: number): number {
  let index = 0;
  while (index < LATENCY_BUCKETS_MS.length && LATENCY_BUCKETS_MS[index]! <= durationMs) index += 1;
  return index;
}

/** The q-quantile (0..1) of a histogram, interpolated linearly within its bucket; null when empty. */
export function quantile(histogram: readonly number[], q: number): number | null {
  const total = histogram.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (const [index, count] of histogram.entries()) {
    if (count > 0 && below + count >= rank) {
      const low = index === 0 ? 0 : LATENCY_BUCKETS_MS[index - 1]!;
      const high = LATENCY_BUCKETS_MS[index];
      // The open-ended last bucket has no width: report its floor ("60 s or more").
      if (high === undefined) return low;
      return Math.round(low + ((high - low) * Math.max(0, rank - below)) / count);
    }
    below += count;
  }
  return LATENCY_BUCKETS_MS.at(-1)!;
}

export function addHistograms(into: number[], from: readonly number[]) {
  for (let i = 0; i < BUCKET_COUNT; i += 1) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
  return into;
}

export type HealthWindow = {
  attempts: number;
  succeeded: number;
  /** Share of attempts that got a 2xx; null without attempts. */
  successRate: number | null;
  /** Response time of attempts that got an HTTP response, ms; null without any. */
  p50Ms: number | null;
  p95Ms: number | null;
};

export function summarize(rows: { attempts: number; succeeded: number; latency: readonly number[] }[]): HealthWindow {
  const histogram = new Array<number>(BUCKET_COUNT).fill(0);
  let attempts = 0;
  let succeeded = 0;
  for (const row of rows) {
    attempts += row.attempts;
    succeeded += row.succeeded;
    addHistograms(histogram, row.latency);
  }
  return {
    attempts,
    succeeded,
    successRate: attempts === 0 ? null : succeeded / attempts,
    p50Ms: quantile(histogram, 0.5),
    p95Ms: quantile(histogram, 0.95),
  };
}

export type HealthBadge = "healthy" | "degraded" | "failing" | "no-data";

/** The thresholds of the badge; docs/delivery.md → Endpoint health repeats them. */
export const HEALTH_THRESHOLDS = {
  /** Failing at this many failed deliveries in a row (the first failure notice). */
  failingRun: 5,
  /** Failing below this 24 h success rate. */
  failingRate: 0.9,
  /** Degraded below this 24 h success rate. */
  degradedRate: 0.99,
  /** Degraded when the 24 h p95 response time is above this. */
  degradedP95Ms: 5000,
} as const;

const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;

/**
 * The badge for an endpoint, from its last 24 h and its current run of failed deliveries,
 * with the reason for it:
 * - failing: disabled or failed validation, ≥ 5 failed deliveries in a row, or < 90% of attempts succeeded;
 * - degraded: the latest delivery failed (a run of 1–4), < 99% succeeded, or p95 above 5 s;
 * - healthy: otherwise, with at least one attempt in 24 h;
 * - no-data: no attempts in 24 h and nothing failing.
 */
export function assessHealth(input: { status: string; consecutiveFailures: number; day: HealthWindow }): { badge: HealthBadge; reason: string } {
  const { day, consecutiveFailures: run } = input;
  const t = HEALTH_THRESHOLDS;
  const inRow = `${run} deliver${run === 1 ? "y" : "ies"} failed in a row`;
  if (input.status === "disabled") return { badge: "failing", reason: "disabled: nothing is sent to it" };
  if (input.status === "failed") return { badge: "failing", reason: "validation failed: nothing is sent to it" };
  if (run >= t.failingRun) return { badge: "failing", reason: inRow };
  if (day.successRate !== null && day.successRate < t.failingRate) {
    return { badge: "failing", reason: `${percent(day.successRate)} of attempts succeeded in 24 h (under ${percent(t.failingRate)})` };
  }
  if (run > 0) return { badge: "degraded", reason: inRow };
  if (day.successRate !== null && day.successRate < t.degradedRate) {
    return { badge: "degraded", reason: `${percent(day.successRate)} of attempts succeeded in 24 h (under ${percent(t.degradedRate)})` };
  }
  if (day.p95Ms !== null && day.p95Ms > t.degradedP95Ms) {
    return { badge: "degraded", reason: `p95 response time ${day.p95Ms} ms in 24 h (over ${t.degradedP95Ms} ms)` };
  }
  if (day.attempts === 0) return { badge: "no-data", reason: "no delivery attempts in 24 h" };
  return { badge: "healthy", reason: `${percent(day.successRate!)} of ${day.attempts} attempts succeeded in 24 h` };
}
