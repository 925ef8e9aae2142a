// Daily re-validation against a real receiver: a failure is shown and notified but does not
// stop deliveries; the third in a row marks the endpoint "Validation failed".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db, pool } from "@/lib/db";
import { runHousekeeping } from "@/lib/housekeeping";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { missedBacklog } from "@/lib/webhooks/delivery/backlog";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { REVALIDATION_FAILURES_TO_FAIL, revalidateDue } from "@/lib/webhooks/endpoints/daily-validation";
import { policyFromEnv } from "@/lib/webhooks/delivery/ssrf";

let receiver: Receiver;
/** Paths whose token GETs fail; POSTs (deliveries) always succeed. */
const failingGets = new Set<string>();
beforeAll(async () => {
  receiver = await startReceiver((r) => {
    const base = r.path.split("/").slice(0, 3).join("/");
    return { status: r.method === "GET" && failingGets.has(base) ? 503 : 200 };
  });
});
afterAll(() => receiver.close());

async function activeEndpoint(path: string, due = true) {
  const team = await createTeam();
  const { endpoint } = await createActiveEndpoint(team.id, `${receiver.url}${path}`);
  await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { nextRevalidationAt: due ? new Date(Date.now() - 1000) : new Date(Date.now() + 3600_000) } });
  return { team, endpoint };
}
const makeDue = (id: string) => db.webhookEndpoint.update({ where: { id }, data: { nextRevalidationAt: new Date(Date.now() - 1000) } });
const gets = (path: string) => receiver.requests.filter((r) => r.method === "GET" && r.path.startsWith(`${path}/`));
const policy = policyFromEnv();

describe("daily re-validation", () => {
  it("sends the token GET once a day and keeps a passing endpoint as it is", async () => {
    const path = "/reval/ok";
    const { endpoint } = await activeEndpoint(path);
    expect(await revalidateDue(policy)).toBeGreaterThanOrEqual(1);
    expect(gets(path)).toHaveLength(1);
    expect(gets(path)[0]!.headers["x-mon1tor-validation-token"]).toBe(gets(path)[0]!.path.split("/").at(-1));
    const stored = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id }, include: { validations: true } });
    expect(stored).toMatchObject({ status: "active", revalidationFailures: 0 });
    expect(stored.validations).toMatchObject([{ ok: true, scheduled: true }]);
    // Claimed for a day: another round now does not check it again.
    expect(stored.nextRevalidationAt!.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    await revalidateDue(policy);
    expect(gets(path)).toHaveLength(1);
  });

  it("a failure notifies but does not stop deliveries; the third in a row marks it Validation failed; a success resets", async () => {
    const path = "/reval/flaky";
    failingGets.add(path);
    const { team, endpoint } = await activeEndpoint(path);
    for (let day = 1; day < REVALIDATION_FAILURES_TO_FAIL; day++) {
      await revalidateDue(policy);
      const stored = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
      expect(stored).toMatchObject({ status: "active", revalidationFailures: day });
      await makeDue(endpoint.id);
    }
    const notices = await db.notification.findMany({ where: { endpointId: endpoint.id }, orderBy: { createdAt: "asc" } });
    expect(notices.map((n) => n.kind)).toEqual(["revalidation_failed", "revalidation_failed"]);
    expect(notices[0]!.message).toContain("failed (1 of 3): answered 503 Service Unavailable. Deliveries continue");

    // Still active: alerts still flow after two failed daily validations.
    await db.$transaction((tx) => ingestAlert(tx, team, { title: "still flowing", severity: "info", status: "triggered" }));
    expect((await new Dispatcher({ timeoutMs: 5_000 }).drain()).delivered).toBe(1);

    // A success in between resets the count.
    failingGets.delete(path);
    await revalidateDue(policy);
    expect(await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toMatchObject({ status: "active", revalidationFailures: 0 });

    failingGets.add(path);
    for (let day = 1; day <= REVALIDATION_FAILURES_TO_FAIL; day++) {
      await makeDue(endpoint.id);
      await revalidateDue(policy);
    }
    const failed = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id }, include: { validations: { orderBy: { startedAt: "desc" } } } });
    expect(failed.status).toBe("failed");
    expect(failed.statusReason).toBe("3 daily validations in a row failed; last: answered 503 Service Unavailable");
    expect(failed.inactiveSince).not.toBeNull();
    expect(failed.validations.filter((v) => v.scheduled && !v.ok)).toHaveLength(5);
    const last = await db.notification.findFirstOrThrow({ where: { endpointId: endpoint.id }, orderBy: { createdAt: "desc" } });
    expect(last.message).toContain("was marked Validation failed");

    // Deliveries stop; what it misses is offered for replay when it validates again.
    await db.$transaction((tx) => ingestAlert(tx, team, { title: "held back", severity: "info", status: "triggered" }));
    expect((await new Dispatcher({ timeoutMs: 5_000 }).drain()).attempted).toBe(0);
    expect((await missedBacklog(team.id, failed)).count).toBe(1);
    // A failed endpoint is not re-validated daily: a person re-validates it.
    await makeDue(endpoint.id);
    const before = gets(path).length;
    await revalidateDue(policy);
    expect(gets(path)).toHaveLength(before);
  });

  it("skips endpoints not yet due and endpoints with re-validation off", async () => {
    const { endpoint: notDue } = await activeEndpoint("/reval/later", false);
    const { endpoint: off } = await activeEndpoint("/reval/off");
    await db.webhookEndpoint.update({ where: { id: off.id }, data: { revalidateDaily: false } });
    await revalidateDue(policy);
    expect(gets("/reval/later")).toHaveLength(0);
    expect(gets("/reval/off")).toHaveLength(0);
    expect(await db.validationAttempt.count({ where: { endpointId: { in: [notDue.id, off.id] } } })).toBe(0);
  });

  it("two runners at once (worker and cron) check each due endpoint once", async () => {
    const paths = ["/reval/race-a", "/reval/race-b", "/reval/race-c"];
    for (const path of paths) await activeEndpoint(path);
    await Promise.all([revalidateDue(policy), revalidateDue(policy), runHousekeeping(pool, 30)]);
    for (const path of paths) expect(gets(path)).toHaveLength(1);
  });

  it("housekeeping (what the worker and the cron route run) re-validates", async () => {
    const path = "/reval/housekeeping";
    await activeEndpoint(path);
    const report = await runHousekeeping(pool, 30);
    expect(report.revalidated).toBeGreaterThanOrEqual(1);
    expect(gets(path)).toHaveLength(1);
  });
});
