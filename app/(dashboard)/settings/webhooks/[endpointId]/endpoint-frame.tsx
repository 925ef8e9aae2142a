import Link from "next/link";
import { Nav } from "@/components/nav";
import { formatDateTime, PageHeader } from "@/components/ui";
import { FailureBanner } from "@/components/webhooks/failure-banner";
import { pageContext, type TeamContext } from "@/lib/auth/context";
import { can } from "@/lib/auth/permissions";
import { orNotFound } from "@/lib/page";
import { missedBacklog } from "@/lib/webhooks/delivery/backlog";
import { getEndpointDetail, type EndpointDetail } from "@/lib/webhooks/endpoints/queries";
import { EndpointActions } from "./endpoint-controls";

// One endpoint, in four tabs, each its own URL (linkable, and the back button works): Overview,
// Deliveries, Settings, and Test & debug. Each tab's page renders inside this frame: the header
// with the endpoint's actions, the failure banner and the tabs. (A frame rather than a layout:
// a delivery's own page, below the Deliveries tab, has a header of its own.)
/** What every tab reads first: the signed-in member's team context and the endpoint (404 if not theirs). */
export async function loadEndpoint(params: Promise<{ endpointId: string }>) {
  const context = await pageContext();
  const { endpointId } = await params;
  const endpoint = await orNotFound(getEndpointDetail(context.team.id, endpointId));
  return { context, endpoint, manage: can(context.role, "webhooks:manage") };
}

export async function EndpointFrame({ context, endpoint, children }: { context: TeamContext; endpoint: EndpointDetail; children: React.ReactNode }) {
  const manage = can(context.role, "webhooks:manage");
  const inactive = endpoint.status === "paused" || endpoint.status === "disabled" || endpoint.status === "failed";
  const backlog = manage && inactive ? await missedBacklog(context.team.id, endpoint) : null;
  const base = `/settings/webhooks/${endpoint.id}`;
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
            relay={endpoint.kind === "relay" ? { connected: endpoint.relayStreamId !== null } : null}
          />
        ) : null}
      </PageHeader>
      <FailureBanner endpoint={endpoint} />
      <div className="mb-6 border-b border-slate-200 pb-2">
        <Nav
          label="Endpoint"
          items={[
            { href: base, label: "Overview", exact: true },
            { href: `${base}/deliveries`, label: "Deliveries" },
            { href: `${base}/settings`, label: "Settings" },
            { href: `${base}/test`, label: "Test & debug" },
          ]}
        />
      </div>
      {children}
    </>
  );
}
