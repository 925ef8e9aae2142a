import "server-only";
import { db, pool } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { summarize, type HealthWindow } from "@/lib/webhooks/endpoints/health";

// Never select secretCiphertext here: list and page data must not carry the secret.
const endpointFields = {
  id: true,
  url: true,
  kind: true,
  relayName: true,
  relayStreamId: true,
  relaySeenAt: true,
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
  tlsCertExpiresAt: true,
  tlsCertCheckedAt: true,
  revalidateDaily: true,
  nextRevalidationAt: true,
  revalidationFailures: true,
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

export type EndpointDetail = NonNullable<Awaited<ReturnType<typeof getEndpointDetail>>>;

export async function getEndpointDetail(teamId: string, endpointId: string) {
  const endpoint = await db.webhookEndpoint.findFirst({
    where: { id: endpointId, teamId },
    select: {
      ...endpointFields,
      validations: {
        orderBy: { startedAt: "desc" },
        take: 20,
        select: { id: true, startedAt: true, ok: true, reason: true, statusCode: true, durationMs: true, errorClass: true, token: true, scheduled: true },
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

/**
 * An endpoint's deliveries still waiting in the event queue (lib/webhooks/delivery/event-queue.ts),
 * which have no Delivery row until they are sent: newest first, older than `before` (created at,
 * id) if given, at most `take`. With `id`, only that delivery.
 */
async function queuedInEvents(teamId: string, endpointId: string, options: { before?: { createdAt: Date; id: string } | null; take: number; id?: string }) {
  const { rows } = await pool.query<{ id: string; createdAt: Date; eventId: string; type: string; body: string; title: string | null }>(
    `SELECT q."deliveryIds"[array_position(q."endpointIds", $2)] AS id, q."eventCreatedAt" AT TIME ZONE 'UTC' AS "createdAt",
            ev.id AS "eventId", ev.type, ev.body, a.title
     FROM "EventQueue" q
     JOIN "Event" ev ON ev.id = q."eventId" AND ev."createdAt" = q."eventCreatedAt"
     LEFT JOIN "Alert" a ON a.id = q."alertId"
     WHERE q."teamId" = $1 AND $2 = ANY(q."endpointIds")
       AND ($5::text IS NULL OR $5 = ANY(q."deliveryIds"))
       AND ($3::timestamptz IS NULL OR (q."eventCreatedAt", q."deliveryIds"[array_position(q."endpointIds", $2)]) < ($3::timestamptz AT TIME ZONE 'UTC', $4::text))
     ORDER BY q."createdAt" DESC, 1 DESC
     LIMIT $6`,
    [teamId, endpointId, options.before?.createdAt.toISOString() ?? null, options.before?.id ?? null, options.id ?? null, options.take],
  );
  return rows.map(({ id, createdAt, eventId, type, body, title }) => ({
    id,
    status: "pending" as const,
    attempts: 0,
    nextAttemptAt: createdAt,
    lastStatusCode: null,
    lastError: null,
    lastLatencyMs: null,
    deliveredAt: null,
    createdAt,
    event: { id: eventId, type, body, alert: title === null ? null : { title } },
  }));
}

/** Newest first; `before` is the id of the last row of the previous page. */
export async function listDeliveries(teamId: string, endpointId: string, filter: { status?: DeliveryStatusFilter; before?: string }) {
  const cursor = filter.before
    ? ((await db.delivery.findFirst({ where: { id: filter.before, teamId, endpointId }, select: { createdAt: true, id: true } })) ??
      (await queuedInEvents(teamId, endpointId, { id: filter.before, take: 1 }))[0] ??
      null)
    : null;
  // Not sent yet, so pending: listed with the pending ones.
  const queued = !filter.status || filter.status === "pending" ? await queuedInEvents(teamId, endpointId, { before: cursor, take: DELIVERY_PAGE_SIZE + 1 }) : [];
  const written = await db.delivery.findMany({
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
      // Which alert: in a storm every row's type is alert.triggered.
      event: { select: { type: true, alert: { select: { title: true } } } },
    },
  });
  const rows =
    queued.length === 0
      ? written
      : [...written, ...queued].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  return { rows: rows.slice(0, DELIVERY_PAGE_SIZE), hasMore: rows.length > DELIVERY_PAGE_SIZE };
}

const HOUR_MS = 3600_000;
/** The first hour of the window that ends with the current hour: 24 h is the last 24 hourly rows, 7 d the last 168. */
const windowStart = (now: Date, hours: number) => new Date((Math.floor(now.getTime() / HOUR_MS) - hours + 1) * HOUR_MS);

/** $1 team id, $2 first hour: the team's hourly rows, by the hour index. Exported so bench/overview.ts can show its plan. */
export const TEAM_HEALTH_SQL = `
  SELECT h."endpointId", h.attempts, h.succeeded, h.latency
  FROM "EndpointHealthHour" h JOIN "WebhookEndpoint" e ON e.id = h."endpointId"
  WHERE e."teamId" = $1 AND h.hour >= $2`;

/**
 * The last 24 h of every endpoint of a team, for the Webhooks page: at most 24 rows per
 * endpoint, whatever the size of the delivery log (bench/overview.ts measures it with 50
 * endpoints and a million deliveries). Summed here: PostgreSQL adding the histograms
 * element by element was slower than this loop.
 */
export async function teamHealth(teamId: string, now = new Date()): Promise<Map<string, HealthWindow>> {
  const { rows } = await pool.query<{ endpointId: string; attempts: number; succeeded: number; latency: number[] }>(TEAM_HEALTH_SQL, [teamId, windowStart(now, 24).toISOString()]);
  const byEndpoint = new Map<string, typeof rows>();
  for (const row of rows) {
    const hours = byEndpoint.get(row.endpointId);
    if (hours) hours.push(row);
    else byEndpoint.set(row.endpointId, [row]);
  }
  return new Map([...byEndpoint].map(([endpointId, hours]) => [endpointId, summarize(hours)]));
}

export type HealthBar = { start: Date; ok: number; failed: number };

/** One endpoint over 24 h and 7 d: the numbers, and bars per hour (24 h) and per day (7 d). */
export async function endpointHealth(teamId: string, endpointId: string, now = new Date()) {
  const weekStart = windowStart(now, 24 * 7);
  const dayStart = windowStart(now, 24);
  const rows = await db.endpointHealthHour.findMany({
    where: { endpointId, endpoint: { teamId }, hour: { gte: weekStart } },
    select: { hour: true, attempts: true, succeeded: true, latency: true },
    orderBy: { hour: "asc" },
  });
  const dayRows = rows.filter((row) => row.hour >= dayStart);
  const bars = (start: Date, count: number, size: number): HealthBar[] =>
    Array.from({ length: count }, (_, i) => {
      const from = start.getTime() + i * size;
      const inside = rows.filter((row) => row.hour.getTime() >= from && row.hour.getTime() < from + size);
      const attempts = inside.reduce((sum, row) => sum + row.attempts, 0);
      const ok = inside.reduce((sum, row) => sum + row.succeeded, 0);
      return { start: new Date(from), ok, failed: attempts - ok };
    });
  return {
    day: summarize(dayRows),
    week: summarize(rows),
    hours: bars(dayStart, 24, HOUR_MS),
    days: bars(weekStart, 7, 24 * HOUR_MS),
  };
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
  if (delivery) return delivery;
  // Still in the event queue: pending, no attempt yet.
  const [queued] = await queuedInEvents(teamId, endpointId, { id: deliveryId, take: 1 });
  if (!queued) throw notFound("That delivery does not exist.");
  const endpoint = await db.webhookEndpoint.findFirstOrThrow({ where: { id: endpointId, teamId }, select: { url: true } });
  return { ...queued, endpoint, attemptLog: [] as (typeof delivery & {})["attemptLog"] };
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
