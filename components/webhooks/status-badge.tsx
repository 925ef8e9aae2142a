import type { EndpointStatus } from "@/lib/generated/prisma/enums";

export const statusLabels: Record<EndpointStatus, string> = {
  pending: "Pending validation",
  active: "Active",
  failed: "Validation failed",
  paused: "Paused",
  disabled: "Disabled",
};

const tones: Record<EndpointStatus, string> = {
  pending: "bg-amber-50 text-amber-800 ring-amber-200",
  active: "bg-green-50 text-green-800 ring-green-200",
  failed: "bg-red-50 text-red-800 ring-red-200",
  paused: "bg-slate-100 text-slate-700 ring-slate-200",
  disabled: "bg-red-50 text-red-800 ring-red-200",
};

export function StatusBadge({ status }: { status: EndpointStatus }) {
  return (
    <span data-testid="endpoint-status" className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${tones[status]}`}>
      {statusLabels[status]}
    </span>
  );
}
