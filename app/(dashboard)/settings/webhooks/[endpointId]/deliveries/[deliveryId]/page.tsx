import Link from "next/link";
import { Card, formatDateTime, PageHeader } from "@/components/ui";
import { DeliveryStatusBadge } from "@/components/webhooks/delivery-status";
import { pageContext } from "@/lib/auth/context";
import { can } from "@/lib/auth/permissions";
import { orNotFound } from "@/lib/page";
import { attemptRequestHeaders } from "@/lib/webhooks/delivery/request-headers";
import { getDeliveryDetail } from "@/lib/webhooks/endpoints/queries";
import { RedeliverButton } from "../../endpoint-controls";

export const metadata = { title: "Delivery" };

function prettyJson(body: string) {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export default async function DeliveryPage({ params }: { params: Promise<{ endpointId: string; deliveryId: string }> }) {
  const context = await pageContext();
  const { endpointId, deliveryId } = await params;
  const delivery = await orNotFound(getDeliveryDetail(context.team.id, endpointId, deliveryId));
  const latest = delivery.attemptLog[0];
  // The headers of the latest attempt; signatures only for roles that may see the secret.
  const headers = await attemptRequestHeaders(context, {
    id: delivery.id,
    endpointId,
    body: delivery.event.body,
    timestamp: Math.floor((latest?.startedAt ?? delivery.createdAt).getTime() / 1000),
  });

  return (
    <>
      <p className="mb-2 text-sm">
        <Link href={`/settings/webhooks/${endpointId}/deliveries`} className="text-brand-700 underline">
          ← Endpoint
        </Link>
      </p>
      <PageHeader title={`Delivery ${delivery.id}`} description={`${delivery.event.type} to ${delivery.endpoint.url}`}>
        {can(context.role, "webhooks:manage") ? <RedeliverButton deliveryId={delivery.id} /> : null}
      </PageHeader>
      <div className="space-y-6">
        <Card title="Summary">
          <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 text-sm">
            <dt className="text-slate-500">Status</dt>
            <dd>
              <DeliveryStatusBadge status={delivery.status} nextAttemptAt={delivery.nextAttemptAt} />
            </dd>
            <dt className="text-slate-500">Attempts</dt>
            <dd>{delivery.attempts}</dd>
            <dt className="text-slate-500">Event</dt>
            <dd className="font-mono">{delivery.event.id}</dd>
            <dt className="text-slate-500">Created</dt>
            <dd>{formatDateTime(delivery.createdAt)}</dd>
            <dt className="text-slate-500">Delivered</dt>
            <dd>{formatDateTime(delivery.deliveredAt)}</dd>
          </dl>
        </Card>
        <Card title="Request">
          <h3 className="mb-1 text-sm font-semibold">Headers{latest ? ` (attempt ${latest.number})` : " (first attempt)"}</h3>
          <table className="mb-4 w-full text-left font-mono text-xs" aria-label="Request headers">
            <tbody>
              {Object.entries(headers).map(([name, value]) => (
                <tr key={name}>
                  <th scope="row" className="py-0.5 pr-4 font-normal text-slate-500">
                    {name}
                  </th>
                  <td className="break-all">{value}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3 className="mb-1 text-sm font-semibold">Body</h3>
          <pre tabIndex={0} className="max-h-96 overflow-auto rounded-md bg-slate-900 p-3 text-xs text-slate-100" aria-label="Request body">
            {prettyJson(delivery.event.body)}
          </pre>
        </Card>
        <Card title="Attempts">
          {delivery.attemptLog.length === 0 ? (
            <p className="text-sm text-slate-600">No attempt yet: it is queued.</p>
          ) : (
            <ol className="space-y-4">
              {delivery.attemptLog.map((attempt) => (
                <li key={attempt.number} className="rounded-md border border-slate-200 p-3 text-sm">
                  <p className="font-medium">
                    Attempt {attempt.number} · {formatDateTime(attempt.startedAt)} · {attempt.durationMs} ms ·{" "}
                    {attempt.statusCode ? `answered ${attempt.statusCode}` : attempt.errorMessage}
                  </p>
                  {attempt.statusCode && attempt.errorMessage ? <p className="text-red-700">{attempt.errorMessage}</p> : null}
                  {attempt.responseExcerpt ? (
                    <pre tabIndex={0} aria-label={`Response to attempt ${attempt.number}`} className="mt-2 max-h-48 overflow-auto rounded bg-slate-100 p-2 text-xs">
                      {attempt.responseExcerpt}
                    </pre>
                  ) : null}
                </li>
              ))}
            </ol>
          )}
        </Card>
      </div>
    </>
  );
}
