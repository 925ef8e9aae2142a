// Deliveries an endpoint missed while it was not active (paused, disabled, validation
// failed). They never wait forever: at the end of the retry window they expire, with the
// reason. When the endpoint comes back, its owner chooses: replay what was missed since it
// stopped, or start fresh (what Svix calls recover).
import type pg from "pg";
import { db, DB_NOW, DB_NOW_SQL, dbNow, type Tx } from "@/lib/db";
import { Prisma } from "@/lib/generated/prisma/client";
import { takesEventSql } from "@/lib/webhooks/endpoints/filters";
import { notifyWorkers } from "@/lib/webhooks/delivery/enqueue";
import { NEW_DELIVERY_ID_SQL } from "@/lib/webhooks/delivery/envelope";
import { RELAY_EXPIRED_REASON, RELAY_RECONNECT_WINDOW_MS } from "@/lib/relay/protocol";
import { MAX_ATTEMPTS, RETRY_WINDOW_MS } from "@/lib/webhooks/delivery/retry";
import { finishDeliverySql } from "@/lib/webhooks/delivery/finish";

export type BacklogChoice = "replay" | "fresh";
export type Backlog = { count: number; since: Date | null };

const utc = (date: Date) => date.toISOString();

/**
 * While an endpoint is not active its queued deliveries are parked at this time, far past
 * any schedule: the claim's scans (lib/webhooks/delivery/claim.ts) then never wade through another
 * team's dead endpoint. They still count as queued (expiry, replay). The claim's index of
 * new deliveries leaves them out by this very literal.
 */
export const PARKED_AT = new Date("9999-12-31T00:00:00.000Z");
export const isParked = (nextAttemptAt: Date | null) => nextAttemptAt !== null && nextAttemptAt.getTime() >= PARKED_AT.getTime();

// Raw SQL so the same statements serve Prisma transactions and the recorder's pg client.
const PARK_SQL = `UPDATE "Delivery" SET "nextAttemptAt" = '9999-12-31 00:00:00'
  WHERE "endpointId" = ANY($1::text[]) AND "nextAttemptAt" IS NOT NULL AND "nextAttemptAt" < '9999-12-31 00:00:00'
    AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" < ${DB_NOW})`;
const UNPARK_SQL = `UPDATE "Delivery" SET "nextAttemptAt" = ${DB_NOW}
  WHERE "endpointId" = ANY($1::text[]) AND "nextAttemptAt" >= '9999-12-31 00:00:00'`;

/** Parks the queued deliveries of endpoints that stop being active. */
export async function parkQueued(client: Tx | typeof db | pg.ClientBase, endpointIds: string[]) {
  if (endpointIds.length === 0) return;
  if ("$executeRawUnsafe" in client) await client.$executeRawUnsafe(PARK_SQL, endpointIds);
  else await client.query(PARK_SQL, [endpointIds]);
}

/** Makes an endpoint's parked deliveries due again as it becomes active. */
export async function unparkQueued(client: Tx | typeof db, endpointId: string) {
  await client.$executeRawUnsafe(UNPARK_SQL, [endpointId]);
}

/**
 * Expires queued deliveries of endpoints that have not been active for the whole retry window,
 * and of CLI relays (lib/relay/) that stayed disconnected for their reconnect window.
 */
export async function expireStaleDeliveries(pool: pg.Pool, now: Date | null = null) {
  const at = dbNow(1);
  const relayGone = `e.kind = 'relay' AND e."relayStreamId" IS NULL AND e."inactiveSince" < ${at} - make_interval(secs => $3::double precision / 1000)`;
  const result = await pool.query(
    `UPDATE "Delivery" d
     SET ${finishDeliverySql("expired", `CASE WHEN ${relayGone} THEN $4 ELSE 'expired: the endpoint was ' || e.status || ' for the whole retry window' END`, at)}
     FROM "WebhookEndpoint" e
     WHERE e.id = d."endpointId" AND d."nextAttemptAt" IS NOT NULL
       AND ((e.status <> 'active' AND d."createdAt" < ${at} - make_interval(secs => $2::double precision / 1000)) OR (${relayGone}))`,
    [now ? utc(now) : null, RETRY_WINDOW_MS, RELAY_RECONNECT_WINDOW_MS, RELAY_EXPIRED_REASON],
  );
  return result.rowCount ?? 0;
}

const TAKES_MISSED_EVENT = Prisma.raw(takesEventSql("e", { type: "ev.type", severity: "a.severity::text", monitorId: 'a."monitorId"' }));

// The events one endpoint missed: its queued or (since `since`) expired deliveries, and the
// team's alert events since `since` that never got a delivery to it.
const missedEventsSql = (client: Tx | typeof db, teamId: string, endpointId: string, since: Date | null) =>
  client.$queryRaw<{ eventId: string; deliveryId: string | null }[]>`
    SELECT d."eventId", d.id AS "deliveryId" FROM "Delivery" d
    WHERE d."endpointId" = ${endpointId} AND d."teamId" = ${teamId}
      AND (d."nextAttemptAt" IS NOT NULL
           OR (d.status = 'expired' AND ${since ? utc(since) : null}::timestamptz IS NOT NULL
               AND d."createdAt" >= (${since ? utc(since) : null}::timestamptz AT TIME ZONE 'UTC')))
    UNION ALL
    SELECT ev.id, NULL FROM "Event" ev
    JOIN "Alert" a ON a.id = ev."alertId"
    JOIN "WebhookEndpoint" e ON e.id = ${endpointId}
    WHERE ev."teamId" = ${teamId} AND ${since ? utc(since) : null}::timestamptz IS NOT NULL
      AND ev."createdAt" >= (${since ? utc(since) : null}::timestamptz AT TIME ZONE 'UTC')
      AND ev.type <> 'webhook.test'
      -- Only what the endpoint's filters would have let through (lib/webhooks/endpoints/filters.ts).
      AND ${TAKES_MISSED_EVENT}
      AND NOT EXISTS (SELECT 1 FROM "Delivery" d WHERE d."eventId" = ev.id AND d."endpointId" = ${endpointId})`;

/** What an inactive endpoint would get on "Replay": the number of events, and since when. */
export async function missedBacklog(teamId: string, endpoint: { id: string; inactiveSince: Date | null }): Promise<Backlog> {
  const rows = await missedEventsSql(db, teamId, endpoint.id, endpoint.inactiveSince);
  return { count: new Set(rows.map((row) => row.eventId)).size, since: endpoint.inactiveSince };
}

/** Applies the owner's choice as the endpoint becomes active again, in the same transaction. */
export async function applyBacklogChoice(tx: Tx, teamId: string, endpoint: { id: string; inactiveSince: Date | null }, choice: BacklogChoice) {
  if (choice === "fresh") {
    await tx.$executeRawUnsafe(
      `UPDATE "Delivery" SET ${finishDeliverySql("expired", "$3", DB_NOW)} WHERE "endpointId" = $1 AND "teamId" = $2 AND "nextAttemptAt" IS NOT NULL`,
      endpoint.id,
      teamId,
      'skipped: the endpoint came back with "Start fresh"',
    );
    return 0;
  }
  const missed = await missedEventsSql(tx, teamId, endpoint.id, endpoint.inactiveSince);
  const deliveryIds = missed.flatMap((row) => (row.deliveryId ? [row.deliveryId] : []));
  const eventIds = missed.filter((row) => !row.deliveryId).map((row) => row.eventId);
  // A replay gets a fresh retry schedule; the oldest event goes first.
  await tx.$executeRaw`
    UPDATE "Delivery" SET status = CASE WHEN status = 'expired' THEN 'pending'::"DeliveryStatus" ELSE status END,
      "nextAttemptAt" = ${DB_NOW_SQL}, "leaseExpiresAt" = NULL, "maxAttempts" = attempts + ${MAX_ATTEMPTS},
      "updatedAt" = ${DB_NOW_SQL}
    WHERE id = ANY(${deliveryIds}::text[]) AND "teamId" = ${teamId}`;
  await tx.$executeRaw`
    INSERT INTO "Delivery" (id, "teamId", "endpointId", "eventId", "alertId", sequence, status, "nextAttemptAt", "createdAt", "updatedAt")
    SELECT ${Prisma.raw(NEW_DELIVERY_ID_SQL)}, ${teamId}, ${endpoint.id}, ev.id, ev."alertId", ev.sequence, 'pending',
      ${DB_NOW_SQL} + (row_number() OVER (ORDER BY ev."createdAt", ev.id)) * interval '1 millisecond',
      -- Dated at its event: the two share a day's partition (lib/webhooks/delivery/retention.ts).
      ev."createdAt", ${DB_NOW_SQL}
    FROM "Event" ev WHERE ev.id = ANY(${eventIds}::text[]) AND ev."teamId" = ${teamId}`;
  if (missed.length > 0) await notifyWorkers(tx);
  return new Set(missed.map((row) => row.eventId)).size;
}
