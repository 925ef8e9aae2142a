// "Redeliver": a fresh attempt of a delivery now, with the same webhook-id and body.
import { after } from "next/server";
import type { TeamContext } from "@/lib/auth/context";
import { audit } from "@/lib/audit";
import { db } from "@/lib/db";
import { AppError, notFound } from "@/lib/errors";
import { enforce, limits } from "@/lib/rate-limit";
import { dispatchSoon } from "@/lib/webhooks/delivery/immediate-dispatch";

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
  });
  after(() => dispatchSoon([delivery.id]));
}
