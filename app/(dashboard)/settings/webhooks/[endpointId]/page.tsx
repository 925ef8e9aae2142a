import Link from "next/link";
import { Card, DataTable, EmptyState, formatDateTime, PageHeader } from "@/components/ui";
import { endpointName } from "@/components/webhooks/endpoint-name";
import { StatusBadge } from "@/components/webhooks/status-badge";
import { VerifyPanel } from "@/components/webhooks/verify-panel";
import { pageContext } from "@/lib/auth/context";
import { can } from "@/lib/auth/permissions";
import { orNotFound } from "@/lib/page";
import { RELAY_RECONNECT_WINDOW_MS, RELAY_REMOVE_AFTER_MS } from "@/lib/relay/protocol";
import { missedBacklog } from "@/lib/webhooks/backlog";
import { deliveryFilters, getEndpointDetail, recentDeliveries } from "@/lib/webhooks/queries";
import { MAX_CUSTOM_HEADERS } from "@/lib/webhooks/custom-headers";
import { listCustomHeaders } from "@/lib/webhooks/endpoint-settings";
import { describeFilter } from "@/lib/webhooks/filters";
import { FailureBanner } from "@/components/webhooks/failure-banner";
import { z } from "zod";
import { DeliveriesCard } from "./deliveries-card";
import { HealthCard } from "./health-card";
import { EditEndpointForm, EndpointActions } from "./endpoint-controls";
import { CustomHeadersPanel, FilterForm, SecretPanel, SignatureDebugger } from "./settings-controls";

export const metadata = { title: "Webhook endpoint" };

const filterSchema = z.object({
  status: z.enum(deliveryFilters).optional().catch(undefined),
  // A delivery id: anything else (a NUL byte failed the query) shows the newest page.
  before: z.string().max(64).regex(/^[\w-]+$/).optional().catch(undefined),
});

export default async function EndpointPage({
  params,
  searchParams,
}: {
  params: Promise<{ endpointId: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const context = await pageContext();
  const { endpointId } = await params;
  const filter = filterSchema.parse(await searchParams);
  const endpoint = await orNotFound(getEndpointDetail(context.team.id, endpointId));
  const manage = can(context.role, "webhooks:manage");
  const reveal = can(context.role, "webhooks:reveal-secret");
  const last = endpoint.validations[0];
  const inactive = endpoint.status === "paused" || endpoint.status === "disabled" || endpoint.status === "failed";
  const backlog = manage && inactive ? await missedBacklog(context.team.id, endpoint) : null;
  const [headers, recent] = manage
    ? await Promise.all([listCustomHeaders(context.team.id, endpoint.id), recentDeliveries(context.team.id, endpoint.id)])
    : [[], []];
  const relay = endpoint.kind === "relay";
  const previousLive = endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > new Date() ? endpoint.previousSecretExpiresAt : null; // page data has no ciphertext

  return (
    <>
      <p className="mb-2 text-sm">
        <Link href="/settings/webhooks" className="text-brand-700 underline">
          ← Webhooks
        </Link>
      </p>
      <PageHeader title="Webhook endpoint" description={endpoint.description ?? undefined}>
        {manage ? (
          <EndpointActions
            endpointId={endpoint.id}
            status={endpoint.status}
            backlog={backlog ? { count: backlog.count, since: backlog.since ? formatDateTime(backlog.since) : null } : null}
            relay={relay ? { connected: endpoint.relayStreamId !== null } : null}
          />
        ) : null}
      </PageHeader>
      <FailureBanner endpoint={endpoint} />
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="min-w-0 space-y-6 lg:col-span-2">
          <Card title="Endpoint">
            <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 text-sm">
              {relay ? (
                <>
                  <dt className="text-slate-500">Kind</dt>
                  <dd data-testid="relay-state">
                    {endpointName(endpoint)}
                    {endpoint.relaySeenAt ? ` (last seen ${formatDateTime(endpoint.relaySeenAt)})` : ""}
                    {endpoint.relayStreamId
                      ? null
                      : `. Its deliveries wait up to ${RELAY_RECONNECT_WINDOW_MS / 60_000} minutes for mon1tor listen to reconnect, then expire; the relay is removed ${RELAY_REMOVE_AFTER_MS / 3_600_000} hours after its last connection.`}
                  </dd>
                </>
              ) : (
                <>
                  <dt className="text-slate-500">URL</dt>
                  <dd className="break-all font-mono">{endpoint.url}</dd>
                </>
              )}
              <dt className="text-slate-500">Status</dt>
              <dd>
                <StatusBadge status={endpoint.status} />
                {endpoint.statusReason && endpoint.status !== "active" ? (
                  <span className="ml-2 text-red-700" data-testid="status-reason">
                    {endpoint.statusReason}
                    {endpoint.status === "disabled" && endpoint.disabledAt ? ` (since ${formatDateTime(endpoint.disabledAt)})` : ""}
                  </span>
                ) : null}
              </dd>
              <dt className="text-slate-500">Ownership</dt>
              <dd data-testid="ownership">
                {relay
                  ? "Proven by mon1tor listen connecting with an API key of this team: a relay needs no token validation."
                  : endpoint.ownershipConfirmedAt
                  ? `Confirmed ${formatDateTime(endpoint.ownershipConfirmedAt)}: the validation response echoed the token.`
                  : "Not confirmed: to confirm, make the validation response body contain the token we append to the URL, then validate again."}
                {endpoint.deliveryRateCap !== null ? ` Deliveries are capped at ${endpoint.deliveryRateCap.toLocaleString("en-US")} a minute; more wait.` : ""}
              </dd>
              <dt className="text-slate-500">Created</dt>
              <dd>{formatDateTime(endpoint.createdAt)}</dd>
              <dt className="text-slate-500">Activated</dt>
              <dd>{formatDateTime(endpoint.activatedAt)}</dd>
              {relay ? null : (
                <>
                  <dt className="text-slate-500">Last validation</dt>
                  <dd>{last ? `${formatDateTime(last.startedAt)}: ${last.ok ? `answered ${last.statusCode}` : last.reason}` : "never"}</dd>
                </>
              )}
            </dl>
          </Card>
          <HealthCard teamId={context.team.id} endpoint={endpoint} />
          <DeliveriesCard teamId={context.team.id} endpointId={endpoint.id} status={filter.status} before={filter.before} />
          {manage ? (
            <Card title="What this endpoint gets">
              <FilterForm
                endpointId={endpoint.id}
                eventTypes={endpoint.eventTypes}
                severities={endpoint.severities}
                monitorIds={endpoint.monitorIds}
                skipOutdatedStates={endpoint.skipOutdatedStates}
                revalidateDaily={endpoint.revalidateDaily}
                summary={describeFilter(endpoint)}
              />
            </Card>
          ) : null}
          {manage ? (
            <Card title="Custom headers">
              <CustomHeadersPanel endpointId={endpoint.id} headers={headers} max={MAX_CUSTOM_HEADERS} />
            </Card>
          ) : null}
          {manage ? (
            <Card title="My signature check fails">
              <SignatureDebugger
                endpointId={endpoint.id}
                deliveries={recent.map((d) => ({ id: d.id, label: `${d.event.type} · ${formatDateTime(d.createdAt)} · ${d.status} · ${d.id}` }))}
              />
            </Card>
          ) : null}
          {manage && !relay ? (
            <Card title="Edit">
              <EditEndpointForm endpointId={endpoint.id} url={endpoint.url} description={endpoint.description ?? ""} />
            </Card>
          ) : null}
          {relay ? null : (
          <Card title="Validation history">
            <DataTable label="Validation history" columns={["Time", "Kind", "Result", "Status code", "Duration"]} empty={<EmptyState title="No validation attempts yet" />}>
              {endpoint.validations.map((attempt) => (
                <tr key={attempt.id}>
                  <td className="py-2">{formatDateTime(attempt.startedAt)}</td>
                  <td>{attempt.scheduled ? "Daily" : "Requested"}</td>
                  <td>{attempt.ok ? "Validated" : attempt.reason}</td>
                  <td>{attempt.statusCode ?? "—"}</td>
                  <td>{attempt.durationMs === null ? "—" : `${attempt.durationMs} ms`}</td>
                </tr>
              ))}
            </DataTable>
          </Card>
          )}
        </div>
        <div className="min-w-0 space-y-6">
          <Card title="Signing secret">
            {reveal ? (
              <SecretPanel
                endpointId={endpoint.id}
                canRoll={can(context.role, "webhooks:roll-secret")}
                previousExpiresAt={previousLive ? formatDateTime(previousLive) : null}
                rolledAt={endpoint.secretRolledAt ? formatDateTime(endpoint.secretRolledAt) : null}
              />
            ) : (
              <p className="text-sm text-slate-600">Your role cannot reveal the signing secret.</p>
            )}
          </Card>
          <VerifyPanel />
        </div>
      </div>
    </>
  );
}
