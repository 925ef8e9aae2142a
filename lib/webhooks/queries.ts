import "server-only";
import { db } from "@/lib/db";
import { notFound } from "@/lib/errors";
import type { EndpointStatus } from "@/lib/generated/prisma/enums";

// Never select secretCiphertext here: list and page data must not carry the secret.
const endpointFields = {
  id: true,
  url: true,
  description: true,
  status: true,
  statusReason: true,
  consecutiveFailures: true,
  activatedAt: true,
  pausedAt: true,
  disabledAt: true,
  createdAt: true,
} as const;

export const statusLabels: Record<EndpointStatus, string> = {
  pending: "Pending validation",
  active: "Active",
  failed: "Validation failed",
  paused: "Paused",
  disabled: "Disabled",
};

export function listEndpoints(teamId: string) {
  return db.webhookEndpoint.findMany({
    where: { teamId },
    select: {
      ...endpointFields,
      validations: { orderBy: { startedAt: "desc" }, take: 1, select: { startedAt: true, ok: true, reason: true, statusCode: true } },
    },
    orderBy: { createdAt: "desc" },
  });
}

export async function getEndpointDetail(teamId: string, endpointId: string) {
  const endpoint = await db.webhookEndpoint.findFirst({
    where: { id: endpointId, teamId },
    select: {
      ...endpointFields,
      validations: {
        orderBy: { startedAt: "desc" },
        take: 20,
        select: { id: true, startedAt: true, ok: true, reason: true, statusCode: true, durationMs: true, errorClass: true, token: true },
      },
    },
  });
  if (!endpoint) throw notFound("That webhook endpoint does not exist.");
  return endpoint;
}

export type EndpointListItem = Awaited<ReturnType<typeof listEndpoints>>[number];
export type EndpointDetail = Awaited<ReturnType<typeof getEndpointDetail>>;
