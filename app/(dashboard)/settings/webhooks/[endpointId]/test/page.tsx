import { Card, DataTable, EmptyState, formatDateTime } from "@/components/ui";
import { VerifyPanel } from "@/components/webhooks/verify-panel";
import { recentDeliveries } from "@/lib/webhooks/endpoints/queries";
import { EndpointFrame, loadEndpoint } from "../endpoint-frame";
import { SignatureDebugger } from "../signature-debugger-form";

export const metadata = { title: "Test & debug" };

export default async function EndpointTestAndDebug({ params }: { params: Promise<{ endpointId: string }> }) {
  const { context, endpoint, manage } = await loadEndpoint(params);
  const recent = manage ? await recentDeliveries(context.team.id, endpoint.id) : [];
  return (
    <EndpointFrame context={context} endpoint={endpoint}>
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="min-w-0 space-y-6 lg:col-span-2">
          <p className="text-sm text-slate-600">“Send test alert”, above, sends a webhook.test event to this endpoint and waits for its answer.</p>
          {manage ? (
            <Card title="My signature check fails">
              <SignatureDebugger
                endpointId={endpoint.id}
                deliveries={recent.map((d) => ({ id: d.id, label: `${d.event.type} · ${formatDateTime(d.createdAt)} · ${d.status} · ${d.id}` }))}
              />
            </Card>
          ) : null}
          {endpoint.kind === "relay" ? null : (
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
          <VerifyPanel />
        </div>
      </div>
    </EndpointFrame>
  );
}
