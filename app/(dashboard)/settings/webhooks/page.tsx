import Link from "next/link";
import { Card, EmptyState, formatDateTime, PageHeader } from "@/components/ui";
import { StatusBadge } from "@/components/webhooks/status-badge";
import { pageContext } from "@/lib/auth/context";
import { can } from "@/lib/auth/permissions";
import { FailureBanner } from "@/components/webhooks/failure-banner";
import { describeFilter } from "@/lib/webhooks/filters";
import { listEndpoints } from "@/lib/webhooks/queries";
import { AddEndpointForm } from "./add-endpoint-form";

export const metadata = { title: "Webhooks" };

export default async function WebhooksPage() {
  const context = await pageContext();
  const endpoints = await listEndpoints(context.team.id);
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
          {endpoints.length === 0 ? (
            <EmptyState title="No webhook endpoints yet">
              {manage ? "Add a URL above and mon1tor will validate it." : "A member of your team can add one."}
            </EmptyState>
          ) : (
            <ul className="divide-y divide-slate-100" aria-label="Webhook endpoints">
              {endpoints.map((endpoint) => {
                const last = endpoint.validations[0];
                return (
                  <li key={endpoint.id} className="flex flex-wrap items-center justify-between gap-3 py-3">
                    <div className="min-w-0">
                      <Link href={`/settings/webhooks/${endpoint.id}`} className="break-all font-mono text-sm text-brand-700 underline">
                        {endpoint.url}
                      </Link>
                      {endpoint.description ? <p className="text-sm text-slate-600">{endpoint.description}</p> : null}
                      <p className="text-xs text-slate-600" data-testid="endpoint-filter">
                        Gets: {describeFilter(endpoint)}
                      </p>
                      {endpoint.statusReason && endpoint.status !== "active" ? (
                        <p className="text-sm text-red-700">Reason: {endpoint.statusReason}</p>
                      ) : null}
                      {last ? (
                        <p className="text-xs text-slate-500">Last validation {formatDateTime(last.startedAt)}</p>
                      ) : null}
                    </div>
                    <StatusBadge status={endpoint.status} />
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
