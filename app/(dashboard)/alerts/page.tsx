import Link from "next/link";
import { LiveRefresh } from "@/components/live-refresh";
import { Card, EmptyState, formatDateTime, PageHeader, DataTable } from "@/components/ui";
import { listAlerts } from "@/lib/alerts/queries";
import { pageContext } from "@/lib/auth/context";

export const metadata = { title: "Alerts" };

function summary(statuses: string[]) {
  if (statuses.length === 0) return "no active endpoints";
  const counts = new Map<string, number>();
  for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
  return [...counts].map(([status, count]) => `${count} ${status}`).join(", ");
}

export default async function AlertsPage() {
  const context = await pageContext();
  const alerts = await listAlerts(context.team.id);
  const inProgress = alerts.some((a) => a.events.some((e) => e.deliveries.some((d) => d.status === "pending")));
  return (
    <>
      <LiveRefresh active={inProgress} />
      <PageHeader title="Alerts" description="Recent alerts received through the alert API, and where each was delivered." />
      <Card>
        <DataTable
          label="Alerts"
          columns={["Alert", "Severity", "Status", "Deliveries", "Started"]}
          empty={
            <EmptyState title="No alerts yet">
              Send one with an API key: <code className="font-mono">POST /api/v1/alerts</code>. See Settings → API keys.
            </EmptyState>
          }
        >
            {alerts.map((alert) => (
              <tr key={alert.id}>
                <td className="min-w-48 py-2 wrap-anywhere">
                  <Link href={`/alerts/${alert.id}`} className="text-brand-700 underline">
                    {alert.title}
                  </Link>
                  {alert.monitorName ? <span className="block text-xs text-slate-500">{alert.monitorName}</span> : null}
                </td>
                <td>{alert.severity}</td>
                <td>{alert.status}</td>
                <td>{summary(alert.events.flatMap((e) => e.deliveries.map((d) => d.status)))}</td>
                <td>{formatDateTime(alert.startedAt)}</td>
              </tr>
            ))}
        </DataTable>
      </Card>
    </>
  );
}
