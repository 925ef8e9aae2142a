import Link from "next/link";
import { LiveRefresh } from "@/components/live-refresh";
import { Card, DataTable, EmptyState, formatDateTime } from "@/components/ui";
import { DeliveryStatusBadge } from "@/components/webhooks/delivery-status";
import { deliveryFilters, listDeliveries, type DeliveryStatusFilter } from "@/lib/webhooks/queries";

export async function DeliveriesCard({
  teamId,
  endpointId,
  status,
  before,
}: {
  teamId: string;
  endpointId: string;
  status?: DeliveryStatusFilter;
  before?: string;
}) {
  const { rows, hasMore } = await listDeliveries(teamId, endpointId, { status, before });
  const base = `/settings/webhooks/${endpointId}`;
  const filterHref = (value?: string) => (value ? `${base}?status=${value}#deliveries` : `${base}#deliveries`);
  return (
    <Card title="Deliveries">
      <LiveRefresh active={rows.some((row) => row.status === "pending")} />
      <nav id="deliveries" aria-label="Filter deliveries by status" className="mb-3 flex flex-wrap gap-2 text-sm">
        {[undefined, ...deliveryFilters].map((value) => (
          <Link
            key={value ?? "all"}
            href={filterHref(value)}
            aria-current={status === value ? "page" : undefined}
            className={`rounded-full px-3 py-1 ring-1 ring-slate-200 ${status === value ? "bg-brand-50 text-brand-700" : "text-slate-600"}`}
          >
            {value ? value[0]!.toUpperCase() + value.slice(1) : "All"}
          </Link>
        ))}
      </nav>
      <DataTable
        label="Deliveries"
        columns={["Event", "Status", "Attempts", "Last code", "Latency", "Created"]}
        empty={
          <EmptyState title={status ? `No ${status} deliveries` : "No deliveries yet"}>
            Alerts sent to this endpoint appear here. Try “Send test alert”.
          </EmptyState>
        }
      >
        {rows.map((delivery) => (
          <tr key={delivery.id}>
            <td className="py-2">
              <Link href={`${base}/deliveries/${delivery.id}`} className="font-mono text-brand-700 underline">
                {delivery.event.type}
              </Link>
            </td>
            <td>
              <DeliveryStatusBadge status={delivery.status} nextAttemptAt={delivery.nextAttemptAt} reason={delivery.lastError} />
            </td>
            <td>{delivery.attempts}</td>
            <td>{delivery.lastStatusCode ?? (delivery.lastError ? "—" : "")}</td>
            <td>{delivery.lastLatencyMs === null ? "—" : `${delivery.lastLatencyMs} ms`}</td>
            <td>{formatDateTime(delivery.createdAt)}</td>
          </tr>
        ))}
      </DataTable>
      <div className="mt-3 flex gap-3 text-sm">
        {before ? (
          <Link href={filterHref(status)} className="text-brand-700 underline">
            Newest
          </Link>
        ) : null}
        {hasMore ? (
          <Link
            href={`${base}?${new URLSearchParams({ ...(status ? { status } : {}), before: rows.at(-1)!.id })}#deliveries`}
            className="text-brand-700 underline"
          >
            Older
          </Link>
        ) : null}
      </div>
    </Card>
  );
}
