import Link from "next/link";
import { LiveRefresh } from "@/components/live-refresh";
import { Card, DataTable, EmptyState, formatDateTime } from "@/components/ui";
import { DeliveryStatusBadge } from "@/components/webhooks/delivery-status";
import { deliveryFilters, listDeliveries, type DeliveryStatusFilter } from "@/lib/webhooks/endpoints/queries";

/**
 * An endpoint's delivery log: on the Overview tab its newest page (`recent`), on the Deliveries
 * tab the whole log, with filters by status and paging.
 */
export async function DeliveriesCard({
  teamId,
  endpointId,
  status,
  before,
  recent = false,
}: {
  teamId: string;
  endpointId: string;
  status?: DeliveryStatusFilter;
  before?: string;
  recent?: boolean;
}) {
  const { rows, hasMore } = await listDeliveries(teamId, endpointId, recent ? {} : { status, before });
  const base = `/settings/webhooks/${endpointId}`;
  const log = `${base}/deliveries`;
  const filterHref = (value?: string) => (value ? `${log}?status=${value}` : log);
  return (
    <Card title={recent ? "Recent deliveries" : "Deliveries"}>
      <LiveRefresh active={rows.some((row) => row.status === "pending")} />
      {recent ? null : (
      <nav aria-label="Filter deliveries by status" className="mb-3 flex flex-wrap gap-2 text-sm">
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
      )}
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
              {delivery.event.alert ? <span className="block max-w-xs truncate text-xs text-slate-600">{delivery.event.alert.title}</span> : null}
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
        {recent && rows.length > 0 ? (
          <Link href={log} className="text-brand-700 underline">
            All deliveries
          </Link>
        ) : null}
        {!recent && before ? (
          <Link href={filterHref(status)} className="text-brand-700 underline">
            Newest
          </Link>
        ) : null}
        {!recent && hasMore ? (
          <Link
            href={`${log}?${new URLSearchParams({ ...(status ? { status } : {}), before: rows.at(-1)!.id })}`}
            className="text-brand-700 underline"
          >
            Older
          </Link>
        ) : null}
      </div>
    </Card>
  );
}
