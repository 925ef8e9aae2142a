import { describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db, pool } from "@/lib/db";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { purgeHistory } from "@/lib/webhooks/delivery/retention";

describe("retention", () => {
  it("purges finished deliveries older than the window, keeps recent and unfinished ones", async () => {
    const team = await createTeam();
    await createActiveEndpoint(team.id, "https://example.com/retention");
    const now = new Date("2026-11-27T12:00:00Z");
    const old = new Date(now.getTime() - 31 * 24 * 3600 * 1000);
    const ingest = (at: Date) => db.$transaction((tx) => ingestAlert(tx, team, { title: "x", severity: "info", status: "triggered" }, at));
    const [finishedOld, retryingOld, recent] = [await ingest(old), await ingest(old), await ingest(now)];
    await db.delivery.update({ where: { id: finishedOld.deliveryIds[0]! }, data: { status: "delivered", nextAttemptAt: null } });
    await db.delivery.update({ where: { id: recent.deliveryIds[0]! }, data: { status: "delivered", nextAttemptAt: null } });

    const purged = await purgeHistory(pool, 30, now);
    expect(purged.deliveries).toBeGreaterThanOrEqual(1);
    expect(await db.delivery.findUnique({ where: { id: finishedOld.deliveryIds[0]! } })).toBeNull();
    expect(await db.event.findUnique({ where: { id: finishedOld.eventId! } })).toBeNull();
    expect(await db.delivery.findUnique({ where: { id: retryingOld.deliveryIds[0]! } })).not.toBeNull();
    expect(await db.delivery.findUnique({ where: { id: recent.deliveryIds[0]! } })).not.toBeNull();
    // The alert itself is kept.
    expect(await db.alert.findUnique({ where: { id: finishedOld.alertId } })).not.toBeNull();
  });
});
