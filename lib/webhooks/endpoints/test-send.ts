// "Send test alert": a webhook.test event to one active endpoint, sent while the person waits.
import type { TeamContext } from "@/lib/auth/context";
import { audit } from "@/lib/audit";
import { db } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { enforce, limits } from "@/lib/rate-limit";
import { findEndpoint } from "@/lib/webhooks/endpoints/lifecycle";
import { enqueueEvent } from "@/lib/webhooks/delivery/enqueue";
import { dashboardUrl, newEventId, type AlertPayload } from "@/lib/webhooks/delivery/envelope";
import { kickDeliveries } from "@/lib/webhooks/delivery/immediate-dispatch";

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
