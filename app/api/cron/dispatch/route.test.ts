// The cron route does all the worker does: sends, purges history, idempotency keys and
// rate-limit rows, and expires deliveries of endpoints that stayed inactive.
import { describe, expect, it, vi } from "vitest";

vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: () => {},
}));
import { GET } from "@/app/api/cron/dispatch/route";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db, pool } from "@/lib/db";
import { hit, limits, purgeExpiredRateLimits } from "@/lib/rate-limit";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { startReceiver } from "@/lib/testing/receiver";
import { RETRY_WINDOW_MS } from "@/lib/webhooks/delivery/retry";

const cron = (secret = process.env.CRON_SECRET) =>
  GET(new Request("http://localhost/api/cron/dispatch", { headers: { authorization: `Bearer ${secret}` } }));

describe("housekeeping", () => {
  it("keeps the RateLimit table as small as its live windows", async () => {
    // Older than the longest window of any limit (a day, for secret rolls).
    const longAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    for (let i = 0; i < 200; i++) await hit({ ...limits.signInByIp(`10.0.${i >> 8}.${i & 255}`) }, longAgo);
    await hit(limits.signInByEmail("live@example.test"));
    expect(await purgeExpiredRateLimits(pool)).toBeGreaterThanOrEqual(200);
    const left = await db.rateLimit.findMany({ select: { key: true } });
    expect(left.map((row) => row.key)).toContain("signin:email:live@example.test");
    expect(left.filter((row) => row.key.startsWith("signin:ip:10.0."))).toHaveLength(0);
  });

  it("the cron route refuses a wrong secret and runs every housekeeping step with the right one", async () => {
    expect((await cron("wrong")).status).toBe(401);

    const team = await createTeam();
    const { endpoint } = await createActiveEndpoint(team.id, "https://example.com/paused-for-days");
    const old = new Date(Date.now() - RETRY_WINDOW_MS - 3600_000);
    await db.$transaction((tx) => ingestAlert(tx, team, { title: "old", severity: "info", status: "triggered" }, old));
    await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { status: "paused" } });
    await hit(limits.signInByIp("192.0.2.1"), new Date(Date.now() - 2 * 24 * 3600 * 1000));
    // An endpoint whose daily re-validation is due gets its token GET from the cron route too.
    const receiver = await startReceiver(() => ({ status: 200 }));
    const { endpoint: due } = await createActiveEndpoint(team.id, `${receiver.url}/daily`);
    await db.webhookEndpoint.update({ where: { id: due.id }, data: { nextRevalidationAt: new Date(Date.now() - 1000) } });

    const response = await cron();
    await receiver.close();
    expect(response.status).toBe(200);
    const body = (await response.json()) as { attempted: number; housekeeping: Record<string, number> };
    expect(body.housekeeping.deliveriesExpired).toBeGreaterThanOrEqual(1);
    expect(body.housekeeping.rateLimitsPurged).toBeGreaterThanOrEqual(1);
    expect(body.housekeeping.revalidated).toBeGreaterThanOrEqual(1);
    expect(receiver.requests.filter((r) => r.method === "GET" && r.path.startsWith("/daily/"))).toHaveLength(1);
    expect(await db.validationAttempt.findFirst({ where: { endpointId: due.id } })).toMatchObject({ ok: true, scheduled: true });
    expect(Object.keys(body.housekeeping).sort()).toEqual(
      [
        "daysDropped",
        "daysKept",
        "deliveriesExpired",
        "deliveriesPurged",
        "partitionsMade",
        "emailsSent",
        "eventsPurged",
        "healthHoursPurged",
        "idempotencyKeysPurged",
        "previousSecretsPurged",
        "rateLimitsPurged",
        "relaysDisconnected",
        "relaysRemoved",
        "revalidated",
      ].sort(),
    );
    expect(await db.delivery.findFirst({ where: { endpointId: endpoint.id } })).toMatchObject({ status: "expired" });
  });
});
