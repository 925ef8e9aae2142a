import { Card, formatDateTime } from "@/components/ui";
import { can } from "@/lib/auth/permissions";
import { MAX_CUSTOM_HEADERS } from "@/lib/webhooks/endpoints/custom-headers";
import { listCustomHeaders } from "@/lib/webhooks/endpoints/settings";
import { describeFilter } from "@/lib/webhooks/endpoints/filters";
import { EditEndpointForm } from "../endpoint-controls";
import { EndpointFrame, loadEndpoint } from "../endpoint-frame";
import { CustomHeadersPanel } from "../custom-headers-panel";
import { FilterForm } from "../filter-form";
import { SecretPanel } from "../secret-panel";

export const metadata = { title: "Endpoint settings" };

export default async function EndpointSettings({ params }: { params: Promise<{ endpointId: string }> }) {
  const { context, endpoint, manage } = await loadEndpoint(params);
  const reveal = can(context.role, "webhooks:reveal-secret");
  const headers = manage ? await listCustomHeaders(context.team.id, endpoint.id) : [];
  const previousLive = endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > new Date() ? endpoint.previousSecretExpiresAt : null; // page data has no ciphertext
  return (
    <EndpointFrame context={context} endpoint={endpoint}>
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="min-w-0 space-y-6 lg:col-span-2">
          {manage && endpoint.kind === "http" ? (
            <Card title="Edit">
              <EditEndpointForm endpointId={endpoint.id} url={endpoint.url} description={endpoint.description ?? ""} />
            </Card>
          ) : null}
          <Card title="What this endpoint gets">
            {manage ? (
              <FilterForm
                endpointId={endpoint.id}
                eventTypes={endpoint.eventTypes}
                severities={endpoint.severities}
                monitorIds={endpoint.monitorIds}
                skipOutdatedStates={endpoint.skipOutdatedStates}
                revalidateDaily={endpoint.revalidateDaily}
                summary={describeFilter(endpoint)}
              />
            ) : (
              <p className="text-sm text-slate-700">{describeFilter(endpoint)}</p>
            )}
          </Card>
          {manage ? (
            <Card title="Custom headers">
              <CustomHeadersPanel endpointId={endpoint.id} headers={headers} max={MAX_CUSTOM_HEADERS} />
            </Card>
          ) : null}
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
        </div>
      </div>
    </EndpointFrame>
  );
}
