import Link from "next/link";
import { Card, EmptyState, formatDateTime, PageHeader } from "@/components/ui";
import { endpointName } from "@/components/webhooks/endpoint-name";
import { StatusBadge } from "@/components/webhooks/status-badge";
import { pageContext } from "@/lib/auth/context";
import { can } from "@/lib/auth/permissions";
import { FailureBanner } from "@/components/webhooks/failure-banner";
import { describeFilter } from "@/lib/webhooks/endpoints/filters";
import { HealthBadge, healthLine } from "@/components/webhooks/health-badge";
import { assessHealth, summarize } from "@/lib/webhooks/endpoints/health";
import { listEndpoints, teamHealth } from "@/lib/webhooks/endpoints/queries";
import { AddEndpointForm } from "./add-endpoint-form";

export const metadata = { title: "Webhooks" };

export default async function WebhooksPage() {
  const context = await pageContext();
  const [endpoints, health] = await Promise.all([listEndpoints(context.team.id), teamHealth(context.team.id)]);
  const manage = can(context.role, "webhooks:manage");
  return (
    <>
      <PageHeader
        title="Webhooks"
        description="mon1tor POSTs every alert, signed, to each active endpoint. A new URL is validated first: we call it with a token appended and expect a 2xx."
      />
      {endpoints.map((endpoint) => (
        <FailureBanner key={endpoint.id} endpoint={endpoint} showUrl />
      ))}
      <div className="space-y-6">
        {manage ? (
          <Card title="Add an endpoint">
            <AddEndpointForm />
          </Card>
        ) : null}
        <Card title="Endpoints">
          {endpoints.length > 0 ? (
            <p className="mb-2 text-xs text-slate-500">
              Health over the last 24 h. Failing: 5 or more deliveries failed in a row, under 90% of attempts succeeded, or deliveries stopped.
              Degraded: the latest delivery failed, under 99% succeeded, or p95 over 5 s.
            </p>
          ) : null}
          {endpoints.length === 0 ? (
            <EmptyState title="No webhook endpoints yet">
              {manage ? "Add a URL above and mon1tor will validate it." : "A member of your team can add one."}
            </EmptyState>
          ) : (
            <ul className="divide-y divide-slate-100" aria-label="Webhook endpoints">
              {endpoints.map((endpoint) => {
                const last = endpoint.validations[0];
                const day = health.get(endpoint.id) ?? summarize([]);
                const { badge, reason } = assessHealth({ status: endpoint.status, consecutiveFailures: endpoint.consecutiveFailures, day });
                return (
                  <li key={endpoint.id} className="flex flex-wrap items-center justify-between gap-3 py-3">
                    <div className="min-w-0">
                      <Link href={`/settings/webhooks/${endpoint.id}`} className="break-all font-mono text-sm text-brand-700 underline">
                        {endpointName(endpoint)}
                      </Link>
                      {endpoint.description ? <p className="text-sm text-slate-600">{endpoint.description}</p> : null}
                      <p className="text-xs text-slate-600" data-testid="endpoint-filter">
                        Gets: {describeFilter(endpoint)}
                      </p>
                      {endpoint.statusReason && endpoint.status !== "active" ? (
                        <p className="text-sm text-red-700">Reason: {endpoint.statusReason}</p>
                      ) : null}
                      <p className="text-xs text-slate-600" data-testid="endpoint-health">
                        Last 24 h: {healthLine(day)} · {day.attempts} attempts
                        {endpoint.lastFailureReason ? ` · Last failure ${formatDateTime(endpoint.lastFailureAt)}: ${endpoint.lastFailureReason}` : ""}
                      </p>
                      {badge === "degraded" || badge === "failing" ? (
                        <p className="text-xs text-red-700" data-testid="health-reason">
                          {badge === "failing" ? "Failing" : "Degraded"}: {reason}
                        </p>
                      ) : null}
                      {last && endpoint.kind === "http" ? (
                        <p className="text-xs text-slate-500">Last validation {formatDateTime(last.startedAt)}</p>
                      ) : null}
                    </div>
                    <div className="flex items-center gap-2">
                      <HealthBadge badge={badge} />
                      <StatusBadge status={endpoint.status} />
                    </div>
                  </li>
                );
              })}
            </ul>
          )}
        </Card>
      </div>
    </>
  );
}
