// Alerts come in (API or test button) and leave as one event per alert, with one delivery
// per active endpoint, all in the same transaction.
import crypto from "node:crypto";
import { z } from "zod";
import { timeOrderedId } from "@/lib/crypto/tokens";
import { db, type Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import type { Prisma } from "@/lib/generated/prisma/client";
import type { Alert } from "@/lib/generated/prisma/client";
import { hasLoneSurrogate, hasNul } from "@/lib/text";
import { enqueueEvent } from "@/lib/webhooks/delivery/enqueue";
import { dashboardUrl, newEventId, type AlertPayload, type EventType } from "@/lib/webhooks/delivery/envelope";

// Text PostgreSQL can store (lib/text.ts), refused by field in the API's words.
const storable = (schema: z.ZodString) =>
  schema
    .refine((value) => !hasNul(value), "must not contain NUL (\\u0000) characters")
    .refine((value) => !hasLoneSurrogate(value), "must not contain an unpaired UTF-16 surrogate (such as \\ud800)");
const text = (max: number) => storable(z.string().trim().min(1).max(max));

/** How far ahead of our clock an alert's occurredAt may be: the sender's clock may run fast. */
const OCCURRED_AT_LEEWAY_MS = 24 * 60 * 60 * 1000;

export const alertInputSchema = z.strictObject({
  title: text(300),
  severity: z.enum(["critical", "warning", "info"]).default("critical"),
  status: z.enum(["triggered", "resolved"]).default("triggered"),
  message: storable(z.string().max(10_000)).optional(),
  monitor: z.strictObject({ id: text(200), name: text(300) }).optional(),
  occurredAt: z.iso
    .datetime({ offset: true })
    // PostgreSQL's range starts at 4713 BC but not at year 0, and an alert from before 1970 or days ahead is a clock error.
    .refine((value) => {
      const at = Date.parse(value);
      return at >= 0 && at <= Date.now() + OCCURRED_AT_LEEWAY_MS;
    }, "must be between 1970-01-01T00:00:00Z and 24 hours from now")
    .describe("When the alert happened, ISO 8601 with an offset: from 1970 to 24 hours ahead. Default: when it arrives.")
    .optional(),
  dedupKey: text(255).optional(),
});

export type AlertInput = z.infer<typeof alertInputSchema>;

/** `superseded`: older states of the alert given up for this one (lib/webhooks/delivery/enqueue.ts). */
export type AlertAccepted = { alertId: string; eventId: string | null; deliveriesQueued: number; deliveryIds: string[]; deduplicated: boolean; superseded: number };

export type PayloadFields = Pick<Alert, "id" | "title" | "severity" | "status" | "message" | "monitorId" | "monitorName" | "startedAt" | "resolvedAt">;

/** An alert's stored fields from the API's input, `at` being when it happened. */
export function alertFields(input: AlertInput, at: Date) {
  return {
    title: input.title,
    severity: input.severity,
    status: input.status,
    message: input.message ?? null,
    monitorId: input.monitor?.id ?? null,
    monitorName: input.monitor?.name ?? null,
    startedAt: at,
    resolvedAt: input.status === "resolved" ? at : null,
  };
}

export function alertPayload(alert: PayloadFields, order: { sequence: number; previousEventId: string | null }): AlertPayload {
  return {
    id: alert.id,
    title: alert.title,
    severity: alert.severity,
    status: alert.status,
    message: alert.message,
    monitor: { id: alert.monitorId, name: alert.monitorName },
    startedAt: alert.startedAt.toISOString(),
    resolvedAt: alert.resolvedAt?.toISOString() ?? null,
    url: dashboardUrl(`/alerts/${alert.id}`),
    sequence: order.sequence,
    previousEventId: order.previousEventId,
  };
}

async function emit(tx: Tx, team: { id: string; name: string }, alert: Alert, type: EventType, now: Date) {
  const eventId = newEventId();
  // The alert row is locked by this update until commit, so its events are numbered in order.
  const [order] = await tx.$queryRaw<{ sequence: number; previousEventId: string | null }[]>`
    UPDATE "Alert" a SET "lastSequence" = a."lastSequence" + 1, "lastEventId" = ${eventId}
    FROM (SELECT "lastEventId" AS previous FROM "Alert" WHERE id = ${alert.id}) p
    WHERE a.id = ${alert.id}
    RETURNING a."lastSequence" AS sequence, p.previous AS "previousEventId"`;
  const { deliveryIds, superseded } = await enqueueEvent(tx, { eventId, type, team, alert: alertPayload(alert, order!), alertId: alert.id, now });
  return { eventId, deliveryIds, superseded };
}

/**
 * Records an alert and queues its deliveries. A triggered alert whose dedupKey matches an
 * open alert adds nothing; a resolved one closes the open alert with that key.
 */
export async function ingestAlert(tx: Tx, team: { id: string; name: string }, input: AlertInput, now = new Date()): Promise<AlertAccepted> {
  const at = input.occurredAt ? new Date(input.occurredAt) : now;
  if (input.dedupKey && input.status === "triggered") {
    // The partial unique index on open alerts decides between concurrent triggers: the
    // loser's insert does nothing (it waits for the winner's commit), and it reports the winner's alert.
    const [inserted] = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO "Alert" (id, "teamId", title, severity, status, message, "monitorId", "monitorName", "dedupKey", "startedAt", "createdAt")
      VALUES (${newAlertId()}, ${team.id}, ${input.title}, ${input.severity}::"Severity", 'triggered', ${input.message ?? null},
              ${input.monitor?.id ?? null}, ${input.monitor?.name ?? null}, ${input.dedupKey},
              (${at.toISOString()}::timestamptz AT TIME ZONE 'UTC'), (${now.toISOString()}::timestamptz AT TIME ZONE 'UTC'))
      ON CONFLICT ("teamId", "dedupKey") WHERE status = 'triggered' AND "dedupKey" IS NOT NULL DO NOTHING
      RETURNING id`;
    if (!inserted) {
      const open = await tx.alert.findFirstOrThrow({ where: { teamId: team.id, dedupKey: input.dedupKey, status: "triggered" }, select: { id: true } });
      return { alertId: open.id, eventId: null, deliveriesQueued: 0, deliveryIds: [], deduplicated: true, superseded: 0 };
    }
    const alert = await tx.alert.findUniqueOrThrow({ where: { id: inserted.id } });
    const { eventId, deliveryIds, superseded } = await emit(tx, team, alert, "alert.triggered", now);
    return { alertId: alert.id, eventId, deliveriesQueued: deliveryIds.length, deliveryIds, deduplicated: false, superseded };
  }
  const open = input.dedupKey
    ? await tx.alert.findFirst({
        where: { teamId: team.id, dedupKey: input.dedupKey, status: "triggered" },
        orderBy: { createdAt: "desc" },
      })
    : null;
  const alert = open
    ? await tx.alert.update({ where: { id: open.id }, data: { status: "resolved", resolvedAt: at } })
    : await tx.alert.create({
        data: {
          id: newAlertId(),
          ...alertFields(input, at),
          teamId: team.id,
          dedupKey: input.dedupKey ?? null,
          createdAt: now,
        },
      });
  const { eventId, deliveryIds, superseded } = await emit(tx, team, alert, input.status === "resolved" ? "alert.resolved" : "alert.triggered", now);
  return { alertId: alert.id, eventId, deliveriesQueued: deliveryIds.length, deliveryIds, deduplicated: false, superseded };
}

export const newAlertId = () => timeOrderedId("alt");

export const requestHash = (body: string) => crypto.createHash("sha256").update(body).digest("hex");

/**
 * Runs `work` once per (team, Idempotency-Key): a retried request gets the first answer.
 * The key row is inserted first, so a concurrent retry waits for the first to commit.
 */
export async function withIdempotency<T extends Prisma.InputJsonObject>(
  teamId: string,
  idempotency: { key: string; hash: string } | null,
  work: (tx: Tx) => Promise<T>,
): Promise<{ response: T; replayed: boolean }> {
  if (!idempotency) return { response: await db.$transaction(work), replayed: false };
  const { key, hash } = idempotency;
  const fresh = await db.$transaction(async (tx) => {
    const inserted = await tx.$executeRaw`
      INSERT INTO "IdempotencyRecord" ("teamId", key, "requestHash", "createdAt") VALUES (${teamId}, ${key}, ${hash}, now())
      ON CONFLICT DO NOTHING`;
    if (inserted === 0) return null;
    const response = await work(tx);
    await tx.idempotencyRecord.update({ where: { teamId_key: { teamId, key } }, data: { response } });
    return response;
  });
  if (fresh) return { response: fresh, replayed: false };
  return { response: await storedResponse<T>(teamId, key, hash), replayed: true };
}

/** The first answer to an Idempotency-Key, for a retried request with the same body. */
export async function storedResponse<T>(teamId: string, key: string, hash: string): Promise<T> {
  const record = await db.idempotencyRecord.findUnique({ where: { teamId_key: { teamId, key } } });
  if (!record || record.response === null) {
    throw new AppError("conflict", "A request with this Idempotency-Key is still being processed. Retry shortly.");
  }
  if (record.requestHash !== hash) {
    throw new AppError("validation", "This Idempotency-Key was already used with a different request body.", {
      "Idempotency-Key": ["already used with a different request body"],
    });
  }
  return record.response as T;
}
