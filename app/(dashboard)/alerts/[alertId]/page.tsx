import Link from "next/link";
import { LiveRefresh } from "@/components/live-refresh";
import { Card, formatDateTime, PageHeader, DataTable } from "@/components/ui";
import { DeliveryStatusBadge } from "@/components/webhooks/delivery-status";
import { getAlert } from "@/lib/alerts/queries";
import { pageContext } from "@/lib/auth/context";
import { orNotFound } from "@/lib/page";

export const metadata = { title: "Alert" };

export default async function AlertPage({ params }: { params: Promise<{ alertId: string }> }) {
  const context = await pageContext();
  const { alertId } = await params;
  const alert = await orNotFound(getAlert(context.team.id, alertId));
  const inProgress = alert.events.some((e) => e.deliveries.some((d) => d.status === "pending"));
  return (
    <>
      <LiveRefresh active={inProgress} />
      <p className="mb-2 text-sm">
        <Link href="/alerts" className="text-brand-700 underline">
          ← Alerts
        </Link>
      </p>
      <PageHeader title={alert.title} description={alert.message ?? undefined} />
      <div className="space-y-6">
        <Card title="Alert">
          <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 text-sm">
            <dt className="text-slate-500">Severity</dt>
            <dd>{alert.severity}</dd>
            <dt className="text-slate-500">Status</dt>
            <dd>{alert.status}</dd>
            <dt className="text-slate-500">Monitor</dt>
            <dd>{alert.monitorName ?? "—"}</dd>
            <dt className="text-slate-500">Started</dt>
            <dd>{formatDateTime(alert.startedAt)}</dd>
            <dt className="text-slate-500">Resolved</dt>
            <dd>{formatDateTime(alert.resolvedAt)}</dd>
          </dl>
        </Card>
        {alert.events.map((event) => (
          <Card key={event.id} title={`${event.type} · ${formatDateTime(event.createdAt)}`}>
            <DataTable
              label={`Deliveries of ${event.type}`}
              columns={["Endpoint", "Status", "Attempts", "Last result"]}
              empty={<p className="text-sm text-slate-600">No endpoint was active, so nothing was sent.</p>}
            >
              {event.deliveries.map((delivery) => (
                <tr key={delivery.id}>
                  <td className="py-2">
                    <Link href={`/settings/webhooks/${delivery.endpointId}/deliveries/${delivery.id}`} className="break-all font-mono text-brand-700 underline">
                      {delivery.endpoint.url}
                    </Link>
                  </td>
                  <td>
                    <DeliveryStatusBadge status={delivery.status} nextAttemptAt={delivery.nextAttemptAt} />
                  </td>
                  <td>{delivery.attempts}</td>
                  <td>{delivery.lastStatusCode ? `answered ${delivery.lastStatusCode}` : (delivery.lastError ?? "—")}</td>
                </tr>
              ))}
            </DataTable>
          </Card>
        ))}
      </div>
    </>
  );
}
