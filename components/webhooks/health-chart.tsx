import type { HealthBar } from "@/lib/webhooks/endpoints/queries";

/**
 * Attempts per bar (hour or day) as small stacked bars: green for 2xx, red for the rest.
 * Each bar has a tooltip; the numbers themselves are in the table beside the chart.
 */
export function HealthChart({ bars, label, unit }: { bars: HealthBar[]; label: string; unit: "hour" | "day" }) {
  const max = Math.max(1, ...bars.map((bar) => bar.ok + bar.failed));
  const total = bars.reduce((sum, bar) => sum + bar.ok + bar.failed, 0);
  const failed = bars.reduce((sum, bar) => sum + bar.failed, 0);
  const width = 8;
  const when = (start: Date) => (unit === "hour" ? `${start.toISOString().slice(11, 16)} UTC` : start.toISOString().slice(0, 10));
  return (
    <figure>
      <svg role="img" aria-label={`${label}: ${total} attempts, ${failed} failed`} viewBox={`0 0 ${bars.length * (width + 2)} 40`} className="h-12 w-full" preserveAspectRatio="none">
        {bars.map((bar, i) => {
          const okHeight = (bar.ok / max) * 40;
          const failedHeight = (bar.failed / max) * 40;
          return (
            <g key={bar.start.getTime()}>
              <title>{`${when(bar.start)}: ${bar.ok} succeeded, ${bar.failed} failed`}</title>
              <rect x={i * (width + 2)} y={40 - okHeight} width={width} height={okHeight} className="fill-green-500" />
              <rect x={i * (width + 2)} y={40 - okHeight - failedHeight} width={width} height={failedHeight} className="fill-red-500" />
            </g>
          );
        })}
      </svg>
      <figcaption className="mt-1 text-xs text-slate-500">{label}</figcaption>
    </figure>
  );
}
