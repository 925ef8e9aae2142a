// What a team member does to deliveries: send a test event, redeliver.
import { after } from "next/server";
import type { TeamContext } from "@/lib/auth/context";
import { audit } from "@/lib/audit";
import { db } from "@/lib/db";
import { AppError, notFound } from "@/lib/errors";
import { enforce, limits } from "@/lib/rate-limit";
import { findEndpoint } from "@/lib/webhooks/endpoints";
import { enqueueEvent, notifyWorkers } from "@/lib/webhooks/enqueue";
import { dashboardUrl, newEventId, type AlertPayload } from "@/lib/webhooks/envelope";
import { kickDeliveries } from "@/lib/webhooks/web-dispatcher";

export function testAlert(now: Date): AlertPayload {
  return {
    id: "alert_test",
    title: "Test alert from mon1tor",
    severity: "info",
    status: "triggered",
    message: "This is a test event sent from the mon1tor dashboard. Nothing is wrong.",
    monitor: { id: "mon1tor-test", name: "mon1tor test monitor" },
    startedAt: now.toISOString(),
    resolvedAt: null,
    url: dashboardUrl("/alerts"),
    sequence: 1,
    previousEventId: null,
  };
}

export async function sendTestEvent(context: TeamContext, endpointId: string) {
  const endpoint = await findEndpoint(context.team.id, endpointId);
  if (endpoint.status !== "active") {
    throw new AppError("conflict", "Only an active endpoint can receive a test alert. Validate it first.");
  }
  await enforce(limits.testSendPerEndpoint(endpoint.id), "test alerts for this endpoint");
  const now = new Date();
  const { deliveryIds } = await db.$transaction(async (tx) => {
    const queued = await enqueueEvent(tx, {
      eventId: newEventId(),
      type: "webhook.test",
      team: context.team,
      alert: testAlert(now),
      alertId: null,
      endpointIds: [endpoint.id],
      now,
    });
    await audit(tx, context, "endpoint.test_send", { type: "endpoint", id: endpoint.id }, { deliveryId: queued.deliveryIds[0]! });
    return queued;
  });
  // The person is waiting for the answer: send it now rather than after the response.
  await kickDeliveries(deliveryIds);
  const delivery = await db.delivery.findUniqueOrThrow({
    where: { id: deliveryIds[0]! },
    select: { id: true, status: true, lastStatusCode: true, lastError: true },
  });
  return { deliveryId: delivery.id, status: delivery.status, statusCode: delivery.lastStatusCode, error: delivery.lastError };
}

/** A fresh attempt now: same webhook-id and body, new timestamp and signature. */
export async function redeliver(context: TeamContext, deliveryId: string) {
  const delivery = await db.delivery.findFirst({ where: { id: deliveryId, teamId: context.team.id } });
  if (!delivery) throw notFound("That delivery does not exist.");
  await enforce(limits.redeliverPerEndpoint(delivery.endpointId), "redeliveries for this endpoint");
  const now = new Date();
  await db.$transaction(async (tx) => {
    const queued = await tx.delivery.updateMany({
      where: { id: delivery.id, teamId: context.team.id, OR: [{ leaseExpiresAt: null }, { leaseExpiresAt: { lt: now } }] },
      // One more attempt even when the schedule is used up; a retrying delivery keeps its own.
      data: { status: "pending", nextAttemptAt: now, maxAttempts: Math.max(delivery.maxAttempts, delivery.attempts + 1) },
    });
    if (queued.count === 0) throw new AppError("conflict", "This delivery is being attempted right now. Try again in a moment.");
    await audit(tx, context, "delivery.redeliver", { type: "delivery", id: delivery.id });
    await notifyWorkers(tx);
  });
  after(() => kickDeliveries([delivery.id]));
}
