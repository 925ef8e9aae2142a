import type { HealthBadge as Badge, HealthWindow } from "@/lib/webhooks/endpoints/health";

export const healthLabels: Record<Badge, string> = {
  healthy: "Healthy",
  degraded: "Degraded",
  failing: "Failing",
  "no-data": "No recent traffic",
};

const tones: Record<Badge, string> = {
  healthy: "bg-green-50 text-green-800 ring-green-200",
  degraded: "bg-amber-50 text-amber-800 ring-amber-200",
  failing: "bg-red-50 text-red-800 ring-red-200",
  "no-data": "bg-slate-100 text-slate-700 ring-slate-200",
};

export function HealthBadge({ badge }: { badge: Badge }) {
  return (
    <span data-testid="health-badge" className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${tones[badge]}`}>
      <span className="sr-only">Health: </span>
      {healthLabels[badge]}
    </span>
  );
}

export const formatRate = (rate: number | null) => (rate === null ? "—" : `${(rate * 100).toFixed(1)}%`);

export function formatMs(ms: number | null) {
  if (ms === null) return "—";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** "99.5% · p95 120 ms", the one-line summary of a window. */
export const healthLine = (window: HealthWindow) => `${formatRate(window.successRate)} success · p95 ${formatMs(window.p95Ms)}`;
