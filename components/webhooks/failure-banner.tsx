import Link from "next/link";
import { formatDateTime } from "@/components/ui";
import type { EndpointStatus } from "@/lib/generated/prisma/enums";
import { failurePolicyFromEnv } from "@/lib/webhooks/delivery/failure";

type FailingEndpoint = {
  id: string;
  url: string;
  status: EndpointStatus;
  statusReason: string | null;
  consecutiveFailures: number;
  lastFailureAt: Date | null;
  lastFailureReason: string | null;
  disabledAt: Date | null;
};

/** Disabled by the failure policy, or failing at least as often as its first notify threshold. */
export function needsBanner(endpoint: FailingEndpoint) {
  const threshold = failurePolicyFromEnv().notifyAt[0] ?? 5;
  return (endpoint.status === "disabled" && endpoint.disabledAt !== null) || (endpoint.status === "active" && endpoint.consecutiveFailures >= threshold);
}

/** Says that an endpoint is failing or was disabled, why, and links to its failing deliveries. */
export function FailureBanner({ endpoint, showUrl = false }: { endpoint: FailingEndpoint; showUrl?: boolean }) {
  if (!needsBanner(endpoint)) return null;
  const disabled = endpoint.status === "disabled";
  const name = showUrl ? <span className="break-all font-mono">{endpoint.url}</span> : "This endpoint";
  return (
    <div role="alert" className="mb-4 rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-900">
      <p className="font-medium">
        {name}{" "}
        {disabled
          ? `was disabled ${formatDateTime(endpoint.disabledAt)}: ${endpoint.statusReason}.`
          : `has failed ${endpoint.consecutiveFailures} deliveries in a row.`}
      </p>
      {endpoint.lastFailureReason ? (
        <p className="mt-1">
          Last failure ({formatDateTime(endpoint.lastFailureAt)}): {endpoint.lastFailureReason}.
        </p>
      ) : null}
      <p className="mt-2">
        <Link href={`/settings/webhooks/${endpoint.id}/deliveries?status=failing`} className="font-medium underline">
          View failing deliveries
        </Link>
        {disabled ? " · Re-enable it from the endpoint page once the receiver is fixed: it is validated again first." : null}
      </p>
    </div>
  );
}
