// The endpoint filter (takesEventSql) and the delivery id (newDeliveryId, NEW_DELIVERY_ID_SQL) are
// one rule each on every path an event takes to an endpoint: the alert API's one-statement ingest,
// the general ingest in a transaction, and replay.
import { describe, expect, it } from "vitest";
import { fastIngest } from "@/lib/alerts/fast-ingest";
import { ingestAlert, type AlertInput } from "@/lib/alerts/ingest";
import { db } from "@/lib/db";
import { limits } from "@/lib/rate-limit";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { applyBacklogChoice, missedBacklog } from "@/lib/webhooks/delivery/backlog";
import { filterSchema } from "@/lib/webhooks/endpoints/filters";

async function teamWithFilters() {
  const team = await createTeam();
  const make = async (path: string, filter: { eventTypes?: string[]; severities?: string[]; monitorIds?: string[] }) => {
    const { endpoint } = await createActiveEndpoint(team.id, `https://filters.example.com/${path}`);
    await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: filter });
    return endpoint.id;
  };
  const endpoints = {
    all: await make("all", {}),
    critical: await make("critical", { severities: ["critical"] }),
    dbResolved: await make("db-resolved", { eventTypes: ["alert.resolved"], monitorIds: ["db-1"] }),
  };
  const names = new Map(Object.entries(endpoints).map(([name, id]) => [id, name]));
  const takers = async (deliveryIds: string[]) =>
    (await db.delivery.findMany({ where: { id: { in: deliveryIds } }, select: { endpointId: true } })).map((d) => names.get(d.endpointId)).sort();
  return { team, endpoints, takers };
}

/** msg_ and 12 random bytes in base64url, on every path (lib/webhooks/delivery/envelope.ts). */
const DELIVERY_ID = /^msg_[A-Za-z0-9_-]{16}$/;

const warningOnDb: AlertInput = { title: "disk", severity: "warning", status: "triggered", monitor: { id: "db-1", name: "db-1" } };

describe("the endpoint filter", () => {
  it("holds on the one-statement ingest (the storm path)", async () => {
    const { team, takers } = await teamWithFilters();
    const result = await fastIngest(team, warningOnDb, { limit: limits.alertApiPerKey(`filters-${team.id}`), idempotency: null });
    expect(result.kind).toBe("accepted");
    const ids = result.kind === "accepted" ? result.deliveryIds : [];
    expect(await takers(ids)).toEqual(["all"]);
    // The delivery id rule (NEW_DELIVERY_ID_SQL), as newDeliveryId() makes it on the other paths.
    expect(ids.every((id) => DELIVERY_ID.test(id))).toBe(true);
  });

  it("holds on the general ingest, for each event type, severity and monitor", async () => {
    const { team, takers } = await teamWithFilters();
    const ingest = (input: AlertInput) => db.$transaction((tx) => ingestAlert(tx, team, input));
    const critical = await ingest({ title: "cpu", severity: "critical", status: "triggered", monitor: { id: "web-1", name: "web-1" } });
    expect(await takers(critical.deliveryIds)).toEqual(["all", "critical"]);
    expect(critical.deliveryIds.every((id) => DELIVERY_ID.test(id))).toBe(true);
    expect(await takers((await ingest({ ...warningOnDb, status: "resolved" })).deliveryIds)).toEqual(["all", "dbResolved"]);
    // No monitor at all: an endpoint that names monitors does not take it.
    expect(await takers((await ingest({ title: "x", severity: "info", status: "resolved" })).deliveryIds)).toEqual(["all"]);
  });

  it("holds on replay: an endpoint back from a pause gets only the missed events its filter takes", async () => {
    const { team, endpoints } = await teamWithFilters();
    const since = new Date(Date.now() - 60_000);
    await db.webhookEndpoint.update({ where: { id: endpoints.critical }, data: { status: "paused", inactiveSince: since } });
    const ingest = (input: AlertInput) => db.$transaction((tx) => ingestAlert(tx, team, input));
    await ingest(warningOnDb);
    await ingest({ title: "cpu", severity: "critical", status: "triggered" });
    const endpoint = { id: endpoints.critical, inactiveSince: since };
    expect((await missedBacklog(team.id, endpoint)).count).toBe(1);
    await db.$transaction((tx) => applyBacklogChoice(tx, team.id, endpoint, "replay"));
    const replayed = await db.delivery.findMany({ where: { endpointId: endpoints.critical }, select: { id: true, event: { select: { body: true } } } });
    expect(replayed).toHaveLength(1);
    expect(replayed[0]!.event.body).toContain('"title":"cpu"');
    // The same id format as every other delivery: msg_ and 16 base64url characters.
    expect(replayed[0]!.id).toMatch(DELIVERY_ID);
  });

  it("reads checkboxes by their distinct values: one box sent twice is not every box", () => {
    const parsed = filterSchema.parse({ eventTypes: ["alert.triggered", "alert.triggered"], severities: "critical" });
    expect(parsed).toMatchObject({ eventTypes: ["alert.triggered"], severities: ["critical"] });
    expect(filterSchema.parse({ eventTypes: ["alert.resolved", "alert.triggered"], severities: ["info", "warning", "critical"] })).toMatchObject({ eventTypes: [], severities: [] });
  });
});
