import "server-only";
import { db } from "@/lib/db";
import { notFound } from "@/lib/errors";

// Never select secretCiphertext here: list and page data must not carry the secret.
const endpointFields = {
  id: true,
  url: true,
  description: true,
  status: true,
  statusReason: true,
  consecutiveFailures: true,
  lastFailureAt: true,
  lastFailureReason: true,
  inactiveSince: true,
  ownershipConfirmedAt: true,
  deliveryRateCap: true,
  previousSecretExpiresAt: true,
  secretRolledAt: true,
  eventTypes: true,
  severities: true,
  monitorIds: true,
  skipOutdatedStates: true,
  activatedAt: true,
  pausedAt: true,
  disabledAt: true,
  createdAt: true,
} as const;


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

export const deliveryStatuses = ["pending", "retrying", "delivered", "failed", "expired", "superseded"] as const;
/** Filters of the delivery log: a status, or "failing" (retrying or failed). */
export const deliveryFilters = ["failing", ...deliveryStatuses] as const;
export type DeliveryStatusFilter = (typeof deliveryFilters)[number];
export const DELIVERY_PAGE_SIZE = 20;

/** Newest first; `before` is the id of the last row of the previous page. */
export async function listDeliveries(teamId: string, endpointId: string, filter: { status?: DeliveryStatusFilter; before?: string }) {
  const cursor = filter.before
    ? await db.delivery.findFirst({ where: { id: filter.before, teamId, endpointId }, select: { createdAt: true, id: true } })
    : null;
  const rows = await db.delivery.findMany({
    where: {
      teamId,
      endpointId,
      ...(filter.status === "failing"
        ? { status: { in: ["retrying", "failed"] as const } }
        : filter.status
          ? { status: filter.status }
          : {}),
      ...(cursor ? { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] } : {}),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: DELIVERY_PAGE_SIZE + 1,
    select: {
      id: true,
      status: true,
      attempts: true,
      nextAttemptAt: true,
      lastStatusCode: true,
      lastError: true,
      lastLatencyMs: true,
      createdAt: true,
      event: { select: { type: true } },
    },
  });
  return { rows: rows.slice(0, DELIVERY_PAGE_SIZE), hasMore: rows.length > DELIVERY_PAGE_SIZE };
}

/** Attempts of the last 24 h by hour, and the share that got a 2xx. */
export async function deliveryHealth(teamId: string, endpointId: string, now = new Date()) {
  const since = new Date(now.getTime() - 24 * 3600 * 1000);
  const rows = await db.$queryRaw<{ hour: Date; ok: number; failed: number }[]>`
    SELECT date_trunc('hour', a."startedAt") AS hour,
           count(*) FILTER (WHERE a."statusCode" BETWEEN 200 AND 299)::int AS ok,
           count(*) FILTER (WHERE a."statusCode" IS NULL OR a."statusCode" NOT BETWEEN 200 AND 299)::int AS failed
    FROM "DeliveryAttempt" a JOIN "Delivery" d ON d.id = a."deliveryId"
    WHERE d."teamId" = ${teamId} AND d."endpointId" = ${endpointId} AND a."startedAt" >= ${since}
    GROUP BY 1 ORDER BY 1`;
  const ok = rows.reduce((sum, row) => sum + row.ok, 0);
  const total = ok + rows.reduce((sum, row) => sum + row.failed, 0);
  const byHour = new Map(rows.map((row) => [row.hour.getTime(), row]));
  const start = Math.floor(since.getTime() / 3600_000) * 3600_000;
  const hours = Array.from({ length: 25 }, (_, i) => {
    const hour = start + i * 3600_000;
    const row = byHour.get(hour);
    return { hour: new Date(hour), ok: row?.ok ?? 0, failed: row?.failed ?? 0 };
  });
  return { total, ok, successRate: total ? ok / total : null, hours };
}

export async function getDeliveryDetail(teamId: string, endpointId: string, deliveryId: string) {
  const delivery = await db.delivery.findFirst({
    where: { id: deliveryId, teamId, endpointId },
    include: {
      event: { select: { id: true, type: true, body: true } },
      endpoint: { select: { url: true } },
      attemptLog: { orderBy: { number: "desc" } },
    },
  });
  if (!delivery) throw notFound("That delivery does not exist.");
  return delivery;
}

/** The last deliveries of an endpoint, for the signature debugger's picker. */
export function recentDeliveries(teamId: string, endpointId: string, take = 20) {
  return db.delivery.findMany({
    where: { teamId, endpointId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take,
    select: { id: true, status: true, createdAt: true, event: { select: { type: true } } },
  });
}
