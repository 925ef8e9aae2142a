import type { DeliveryStatus } from "@/lib/generated/prisma/enums";
import { formatDateTime } from "@/components/ui";
import { isParked } from "@/lib/webhooks/delivery/backlog";

const labels: Record<DeliveryStatus, string> = { pending: "Pending", retrying: "Retrying", delivered: "Delivered", failed: "Failed", expired: "Expired", superseded: "Superseded" };
const tones: Record<DeliveryStatus, string> = {
  pending: "bg-amber-50 text-amber-800 ring-amber-200",
  retrying: "bg-orange-50 text-orange-800 ring-orange-200",
  delivered: "bg-green-50 text-green-800 ring-green-200",
  failed: "bg-red-50 text-red-800 ring-red-200",
  expired: "bg-slate-100 text-slate-700 ring-slate-200",
  superseded: "bg-slate-100 text-slate-700 ring-slate-200",
};

export function DeliveryStatusBadge({ status, nextAttemptAt, reason }: { status: DeliveryStatus; nextAttemptAt?: Date | null; reason?: string | null }) {
  return (
    <span className="inline-flex flex-col">
      <span data-testid="delivery-status" className={`inline-flex w-fit rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${tones[status]}`}>
        {labels[status]}
      </span>
      {(status === "retrying" || status === "pending") && nextAttemptAt && isParked(nextAttemptAt) ? (
        <span className="text-xs text-slate-500">held while the endpoint is not active</span>
      ) : status === "retrying" && nextAttemptAt ? (
        // A claim leaves nextAttemptAt as it was: past it, the attempt is due or under way.
        <span className="text-xs text-slate-500">{nextAttemptAt.getTime() <= Date.now() ? "next attempt due now" : `next attempt ${formatDateTime(nextAttemptAt)}`}</span>
      ) : null}
      {(status === "expired" || status === "failed" || status === "superseded") && reason ? <span className="max-w-xs text-xs text-slate-600">{reason}</span> : null}
    </span>
  );
}
