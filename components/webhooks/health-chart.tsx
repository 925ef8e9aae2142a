/** Attempts per hour over the last 24 h as small bars: green for 2xx, red for the rest. */
export function HealthChart({ hours }: { hours: { hour: Date; ok: number; failed: number }[] }) {
  const max = Math.max(1, ...hours.map((h) => h.ok + h.failed));
  const total = hours.reduce((sum, h) => sum + h.ok + h.failed, 0);
  const width = 8;
  return (
    <svg
      role="img"
      aria-label={`Delivery attempts per hour over the last 24 hours: ${total} in all`}
      viewBox={`0 0 ${hours.length * (width + 2)} 40`}
      className="h-12 w-full"
      preserveAspectRatio="none"
    >
      {hours.map((h, i) => {
        const okHeight = (h.ok / max) * 40;
        const failedHeight = (h.failed / max) * 40;
        return (
          <g key={h.hour.getTime()}>
            <title>{`${h.hour.toISOString().slice(11, 16)} UTC: ${h.ok} succeeded, ${h.failed} failed`}</title>
            <rect x={i * (width + 2)} y={40 - okHeight} width={width} height={okHeight} className="fill-green-500" />
            <rect x={i * (width + 2)} y={40 - okHeight - failedHeight} width={width} height={failedHeight} className="fill-red-500" />
          </g>
        );
      })}
    </svg>
  );
}
