import { Card, formatDateTime } from "@/components/ui";
import { formatMs, formatRate, HealthBadge } from "@/components/webhooks/health-badge";
import { HealthChart } from "@/components/webhooks/health-chart";
import { assessHealth, type HealthWindow } from "@/lib/webhooks/endpoints/health";
import { endpointHealth } from "@/lib/webhooks/endpoints/queries";
import { REVALIDATION_FAILURES_TO_FAIL } from "@/lib/webhooks/endpoints/daily-validation";
import { CERT_WARNING_DAYS } from "@/lib/webhooks/endpoints/certificates";

type Endpoint = {
  id: string;
  url: string;
  status: string;
  consecutiveFailures: number;
  lastFailureAt: Date | null;
  lastFailureReason: string | null;
  tlsCertExpiresAt: Date | null;
  tlsCertCheckedAt: Date | null;
  revalidateDaily: boolean;
  nextRevalidationAt: Date | null;
  revalidationFailures: number;
};

const DAY_MS = 24 * 3600 * 1000;

function certificateText(endpoint: Endpoint, now: Date): { text: string; warn: boolean } {
  if (!endpoint.url.startsWith("https:")) return { text: "Not https: no certificate.", warn: false };
  if (!endpoint.tlsCertExpiresAt) return { text: "Not seen yet: it is read on the next delivery or validation.", warn: false };
  const expires = endpoint.tlsCertExpiresAt;
  const checked = endpoint.tlsCertCheckedAt ? ` (checked ${formatDateTime(endpoint.tlsCertCheckedAt)})` : "";
  if (expires <= now) return { text: `Expired (${formatDateTime(expires)} or earlier)${checked}. Deliveries fail until it is renewed.`, warn: true };
  const days = Math.floor((expires.getTime() - now.getTime()) / DAY_MS);
  return { text: `Expires ${formatDateTime(expires)}, in ${days} day${days === 1 ? "" : "s"}${checked}.`, warn: days < CERT_WARNING_DAYS };
}

function revalidationText(endpoint: Endpoint): string {
  if (!endpoint.revalidateDaily) return "Off.";
  const next = endpoint.status === "active" && endpoint.nextRevalidationAt ? ` Next: ${formatDateTime(endpoint.nextRevalidationAt)}.` : "";
  const failures =
    endpoint.revalidationFailures > 0
      ? ` The last ${endpoint.revalidationFailures} failed (${endpoint.revalidationFailures} of ${REVALIDATION_FAILURES_TO_FAIL}); see the validation history.`
      : "";
  return `Daily.${next}${failures}`;
}

export async function HealthCard({ teamId, endpoint }: { teamId: string; endpoint: Endpoint }) {
  const now = new Date();
  const health = await endpointHealth(teamId, endpoint.id, now);
  const { badge, reason } = assessHealth({ status: endpoint.status, consecutiveFailures: endpoint.consecutiveFailures, day: health.day });
  const certificate = certificateText(endpoint, now);
  const run = endpoint.consecutiveFailures;
  return (
    <Card title="Health">
      <p className="mb-4 flex flex-wrap items-center gap-2 text-sm">
        <HealthBadge badge={badge} />
        <span className="text-slate-600" data-testid="health-reason">
          {reason}
        </span>
      </p>
      <div className="grid gap-6 sm:grid-cols-2">
        <table className="w-full text-left text-sm" aria-label="Endpoint health">
          <thead className="text-slate-500">
            <tr>
              <th scope="col">
                <span className="sr-only">Measure</span>
              </th>
              <th scope="col">Last 24 h</th>
              <th scope="col">Last 7 days</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {(
              [
                ["Success rate", (w: HealthWindow) => formatRate(w.successRate)],
                ["Attempts", (w: HealthWindow) => String(w.attempts)],
                ["p50 response", (w: HealthWindow) => formatMs(w.p50Ms)],
                ["p95 response", (w: HealthWindow) => formatMs(w.p95Ms)],
              ] as const
            ).map(([measure, show]) => (
              <tr key={measure}>
                <th scope="row" className="py-1 font-normal text-slate-500">
                  {measure}
                </th>
                <td data-testid={measure === "Success rate" ? "success-rate" : undefined}>{show(health.day)}</td>
                <td>{show(health.week)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="space-y-3">
          <HealthChart bars={health.hours} unit="hour" label="Delivery attempts per hour, last 24 hours" />
          <HealthChart bars={health.days} unit="day" label="Delivery attempts per day, last 7 days" />
        </div>
      </div>
      <dl className="mt-4 grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 text-sm">
        <dt className="text-slate-500">Failed in a row</dt>
        <dd data-testid="failure-run">
          {run === 0
            ? "none"
            : `${run} deliver${run === 1 ? "y" : "ies"}, last ${formatDateTime(endpoint.lastFailureAt)}: ${endpoint.lastFailureReason ?? "unknown"}`}
        </dd>
        <dt className="text-slate-500">TLS certificate</dt>
        <dd data-testid="tls-certificate" className={certificate.warn ? "text-red-700" : undefined}>
          {certificate.text}
        </dd>
        <dt className="text-slate-500">Re-validation</dt>
        <dd data-testid="revalidation">{revalidationText(endpoint)}</dd>
      </dl>
      <p className="mt-3 text-xs text-slate-500">
        Response times count attempts that got an HTTP answer; p50 and p95 are estimated from latency buckets at most a third apart.
      </p>
    </Card>
  );
}
