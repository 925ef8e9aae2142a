// The outbox: an event and one delivery per endpoint, written in the caller's transaction.
// Nothing is sent before it commits. The caller wakes the senders after the commit
// (dispatchSoon or kickDeliveries in lib/webhooks/delivery/immediate-dispatch.ts): a NOTIFY inside the
// transaction holds PostgreSQL's notify lock through the commit's WAL flush, so concurrent
// commits queued on it.
import { DB_NOW, type Tx } from "@/lib/db";
import { newDeliveryId, serializeEnvelope, type AlertPayload, type EventType } from "@/lib/webhooks/delivery/envelope";
import { takesEventSql } from "@/lib/webhooks/endpoints/filters";
import { currentTraceparent } from "@/lib/telemetry/tracing";
import { finishDeliverySql, newerStateSql } from "@/lib/webhooks/delivery/finish";

export const DISPATCH_CHANNEL = "mon1tor_deliveries";

/**
 * Wakes every listening worker when the transaction commits (NOTIFY is transactional). For the
 * rare changes that queue deliveries outside the alert path (a backlog replay); new alerts and
 * redeliveries wake the senders after their commit instead.
 */
export async function notifyWorkers(tx: Tx) {
  await tx.$executeRaw`SELECT pg_notify(${DISPATCH_CHANNEL}, '')`;
}

export async function enqueueEvent(
  tx: Tx,
  input: {
    eventId: string;
    type: EventType;
    team: { id: string; name: string };
    alert: AlertPayload;
    alertId: string | null;
    /** Defaults to every active endpoint of the team whose filters take this event. */
    endpointIds?: string[];
    now?: Date;
  },
): Promise<{ deliveryIds: string[]; body: string; superseded: number }> {
  const now = input.now ?? new Date();
  const endpointIds =
    input.endpointIds ??
    (
      await tx.$queryRawUnsafe<{ id: string }[]>(
        `SELECT e.id FROM "WebhookEndpoint" e
         WHERE e."teamId" = $1 AND e.status = 'active' AND ${takesEventSql("e", { type: "$2::text", severity: "$3::text", monitorId: "$4::text" })}`,
        input.team.id,
        input.type,
        input.alert.severity,
        input.alert.monitor.id,
      )
    ).map((e) => e.id);
  const body = serializeEnvelope({ id: input.eventId, type: input.type, createdAt: now, team: input.team, alert: input.alert });
  // Test events are not part of an alert's history: no sequence, never ordered or superseded.
  const sequence = input.alertId ? input.alert.sequence : null;
  await tx.event.create({
    data: { id: input.eventId, teamId: input.team.id, type: input.type, alertId: input.alertId, sequence, body, traceparent: currentTraceparent(), createdAt: now },
  });
  const deliveries = endpointIds.map((endpointId) => ({
    id: newDeliveryId(),
    teamId: input.team.id,
    endpointId,
    eventId: input.eventId,
    alertId: input.alertId,
    sequence,
    nextAttemptAt: now,
    createdAt: now,
  }));
  let superseded = 0;
  if (deliveries.length > 0) {
    await tx.delivery.createMany({ data: deliveries });
    if (input.alertId && sequence !== null && sequence > 1) {
      superseded = await supersedeOlder(tx, input.alertId, sequence, input.type, endpointIds);
      superseded += await supersedeQueued(tx, input.alertId, input.eventId, input.type, endpointIds);
    }
  }
  // `superseded`: older states given up for this one (counted by the caller once committed).
  return { deliveryIds: deliveries.map((d) => d.id), body, superseded };
}

/**
 * "Skip outdated alert states": once a newer state of an alert is queued for an endpoint,
 * its older states still waiting there are superseded (not sent). One in flight is left
 * to finish; if it fails, recording supersedes it (lib/webhooks/delivery/record.ts).
 */
async function supersedeOlder(tx: Tx, alertId: string, sequence: number, type: EventType, endpointIds: string[]): Promise<number> {
  return tx.$executeRawUnsafe(
    `UPDATE "Delivery" d
     SET ${finishDeliverySql("superseded", `'superseded by ' || o.newer || ' (' || $4 || '): a newer state of this alert was queued'`, DB_NOW)}, "supersededById" = o.newer
     FROM (
       SELECT q.id, ${newerStateSql("q")} AS newer FROM "Delivery" q
       WHERE q."endpointId" = ANY($1::text[]) AND q."alertId" = $2 AND q.sequence < $3 AND q."nextAttemptAt" IS NOT NULL
         AND (q."leaseExpiresAt" IS NULL OR q."leaseExpiresAt" < ${DB_NOW})
     ) o
     WHERE d.id = o.id AND o.newer IS NOT NULL`,
    endpointIds,
    alertId,
    sequence,
    type,
  );
}

/**
 * The same for an alert's first state still waiting in the event queue (lib/webhooks/delivery/event-queue.ts,
 * which holds only first states): for each endpoint that skips outdated states, its delivery is
 * written superseded and taken off the queue row. A row being claimed now (locked, or leased) is left
 * to be sent; its alert's newer state waits for it (lib/webhooks/delivery/claim.ts).
 */
async function supersedeQueued(tx: Tx, alertId: string, eventId: string, type: EventType, endpointIds: string[]): Promise<number> {
  const rows = await tx.$queryRawUnsafe<{ superseded: number }[]>(
    `WITH q AS (
       SELECT q."eventId", q."teamId", q."eventCreatedAt", q."endpointIds", q."deliveryIds" FROM "EventQueue" q
       WHERE q."alertId" = $2 AND q."endpointIds" && $1::text[] AND (q."leaseExpiresAt" IS NULL OR q."leaseExpiresAt" < ${DB_NOW})
       FOR NO KEY UPDATE SKIP LOCKED
     ), listed AS (
       SELECT q."eventId", q."teamId", q."eventCreatedAt", p.endpoint, p.delivery,
              COALESCE(p.endpoint = ANY($1::text[]) AND e."skipOutdatedStates", false) AS outdated
       FROM q CROSS JOIN LATERAL unnest(q."endpointIds", q."deliveryIds") AS p(endpoint, delivery)
       LEFT JOIN "WebhookEndpoint" e ON e.id = p.endpoint
     ), written AS (
       INSERT INTO "Delivery" (id, "teamId", "endpointId", "eventId", "alertId", sequence, status, "supersededById", "lastError", "createdAt", "updatedAt")
       SELECT l.delivery, l."teamId", l.endpoint, l."eventId", $2, 1, 'superseded', $3,
              'superseded by ' || $3 || ' (' || $4 || '): a newer state of this alert was queued', l."eventCreatedAt", ${DB_NOW}
       FROM listed l WHERE l.outdated
       RETURNING 1
     ), kept AS (
       SELECT l."eventId", array_agg(l.endpoint ORDER BY l.endpoint) AS endpoints, array_agg(l.delivery ORDER BY l.endpoint) AS deliveries
       FROM listed l WHERE NOT l.outdated GROUP BY l."eventId"
     ), narrowed AS (
       UPDATE "EventQueue" x SET "endpointIds" = k.endpoints, "deliveryIds" = k.deliveries
       FROM kept k WHERE x."eventId" = k."eventId" AND EXISTS (SELECT 1 FROM listed l WHERE l."eventId" = k."eventId" AND l.outdated)
       RETURNING 1
     ), removed AS (
       DELETE FROM "EventQueue" x WHERE x."eventId" IN (SELECT "eventId" FROM q) AND x."eventId" NOT IN (SELECT "eventId" FROM kept)
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM written)::int AS superseded`,
    endpointIds,
    alertId,
    eventId,
    type,
  );
  return rows[0]!.superseded;
}
