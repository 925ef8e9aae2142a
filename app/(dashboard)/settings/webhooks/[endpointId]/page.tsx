import { Card, formatDateTime } from "@/components/ui";
import { endpointName } from "@/components/webhooks/endpoint-name";
import { StatusBadge } from "@/components/webhooks/status-badge";
import { RELAY_RECONNECT_WINDOW_MS, RELAY_REMOVE_AFTER_MS } from "@/lib/relay/protocol";
import { redirect } from "next/navigation";
import { DeliveriesCard } from "./deliveries-card";
import { EndpointFrame, loadEndpoint } from "./endpoint-frame";
import { HealthCard } from "./health-card";

export const metadata = { title: "Webhook endpoint" };

export default async function EndpointOverview({
  params,
  searchParams,
}: {
  params: Promise<{ endpointId: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { context, endpoint } = await loadEndpoint(params);
  // The delivery log's filters lived on this page before the tabs: their links still arrive.
  const query = await searchParams;
  if (query.status !== undefined || query.before !== undefined) {
    const kept = new URLSearchParams(Object.entries(query).flatMap(([key, value]) => (typeof value === "string" && (key === "status" || key === "before") ? [[key, value]] : [])));
    redirect(`/settings/webhooks/${endpoint.id}/deliveries${kept.size > 0 ? `?${kept}` : ""}`);
  }
  const relay = endpoint.kind === "relay";
  const last = endpoint.validations[0];
  return (
    <EndpointFrame context={context} endpoint={endpoint}>
      <div className="min-w-0 space-y-6">
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
        <DeliveriesCard teamId={context.team.id} endpointId={endpoint.id} recent />
      </div>
    </EndpointFrame>
  );
}
