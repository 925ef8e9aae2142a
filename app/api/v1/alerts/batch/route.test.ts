// The batch API, the Alertmanager receiver and the group commit behind every alert route,
// called as Next calls them, on PostgreSQL.
import { describe, expect, it, vi } from "vitest";

vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: () => {},
}));
import { POST as postOne } from "@/app/api/v1/alerts/route";
import { POST as postBatch } from "@/app/api/v1/alerts/batch/route";
import { POST as postAlertmanager } from "@/app/api/v1/integrations/alertmanager/route";
import { GroupCommit } from "@/lib/alerts/fast-ingest";
import { createApiKey } from "@/lib/api-keys/keys";
import { db, pool } from "@/lib/db";
import { createActiveEndpoint, createMember } from "@/lib/testing/factories";

async function team() {
  const owner = await createMember("owner");
  const { key } = await createApiKey(owner, { name: "test", permissions: ["alerts:send"] });
  const { endpoint } = await createActiveEndpoint(owner.team.id, `http://127.0.0.1:9/batch/${owner.team.id}`);
  return { owner, key, endpoint };
}

const call = (route: typeof postBatch, path: string, key: string, body: unknown, headers: Record<string, string> = {}) =>
  route(
    new Request(`http://localhost${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
type BatchJson = {
  accepted: number;
  deduplicated: number;
  ignored: number;
  refused: number;
  errors: boolean;
  results: { index: number; status: string; id?: string; eventId?: string; replayed?: boolean; reason?: string; error?: { code: string; message: string; fields?: Record<string, string[]> } }[];
};

describe("POST /api/v1/alerts/batch", () => {
  it("answers each item: accepted, deduplicated, or refused with its field, and a bad item never fails the others", async () => {
    const { owner, key, endpoint } = await team();
    const response = await call(postBatch, "/api/v1/alerts/batch", key, {
      alerts: [
        { title: "disk full", dedupKey: "disk" },
        { title: "disk full again", dedupKey: "disk" },
        { title: "nul\u0000here" },
        { title: "cpu", severity: "loud" },
        { title: "memory", status: "resolved" },
        { nope: true },
        null,
      ],
    });
    expect(response.status).toBe(200);
    const json = (await response.json()) as BatchJson;
    expect(json).toMatchObject({ accepted: 2, deduplicated: 1, refused: 4, errors: true });
    expect(json.results.map((r) => r.status)).toEqual(["accepted", "deduplicated", "refused", "refused", "accepted", "refused", "refused"]);
    // An item that is not an object at all is named by its own path.
    expect(json.results[6]!.error!.fields).toEqual({ "alerts.6": ["Invalid input: expected object, received null"] });
    expect(json.results[1]!.id).toBe(json.results[0]!.id);
    expect(json.results[2]!.error!.fields).toHaveProperty(["alerts.2.title"]);
    expect(json.results[3]!.error!.message).toMatch(/^Invalid field 'alerts\.3\.severity'/);
    expect(json.results[5]!.error!.fields).toHaveProperty(["alerts.5.nope"]);
    // Exactly what was accepted is stored, with a delivery each.
    expect(await db.alert.count({ where: { teamId: owner.team.id } })).toBe(2);
    expect(await db.delivery.count({ where: { endpointId: endpoint.id } })).toBe(2);
  });

  it("is idempotent per item under the call's Idempotency-Key: a retried call stores nothing twice", async () => {
    const { owner, key } = await team();
    const body = { alerts: Array.from({ length: 50 }, (_, i) => ({ title: `storm ${i}` })) };
    const first = (await (await call(postBatch, "/api/v1/alerts/batch", key, body, { "idempotency-key": "storm-1" })).json()) as BatchJson;
    const again = (await (await call(postBatch, "/api/v1/alerts/batch", key, body, { "idempotency-key": "storm-1" })).json()) as BatchJson;
    expect(first.accepted).toBe(50);
    expect(again.results.map((r) => r.id)).toEqual(first.results.map((r) => r.id));
    expect(again.results.every((r) => r.replayed)).toBe(true);
    expect(await db.alert.count({ where: { teamId: owner.team.id } })).toBe(50);
  });

  it("refuses a malformed call by field: 1,001 items, no list, an empty list, a wrong content type, not JSON", async () => {
    const { owner, key } = await team();
    const cases: [unknown, number, RegExp][] = [
      [{ alerts: Array.from({ length: 1_001 }, () => ({ title: "x" })) }, 422, /'alerts': must hold at most 1000 alerts/],
      [{ title: "one alert, not a batch" }, 422, /'alerts'/],
      [{ alerts: [] }, 422, /must hold at least one alert/],
      // The body as a whole is named "body" (a form's word, "form", meant nothing to an API caller).
      [[{ title: "a bare list" }], 422, /^Invalid field 'body': .*expected object, received array/],
      ["{not json", 400, /not valid JSON/],
    ];
    for (const [body, status, message] of cases) {
      const response = await call(postBatch, "/api/v1/alerts/batch", key, body);
      expect(response.status).toBe(status);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
    const wrongType = await postBatch(new Request("http://localhost/api/v1/alerts/batch", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "text/plain" }, body: "{}" }));
    expect(wrongType.status).toBe(415);
    expect(await db.alert.count({ where: { teamId: owner.team.id } })).toBe(0);
  });
});

describe("group commit", () => {
  it("writes alerts that arrive together in one transaction, and one bad alert in a group fails only its own call", async () => {
    const { owner, key } = await team();
    const before = Number((await pool.query<{ n: string }>(`SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()`)).rows[0]!.n);
    const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => call(postOne, "/api/v1/alerts", key, { title: `together ${i}` })));
    expect(responses.map((r) => r.status)).toEqual(Array(60).fill(202));
    const after = Number((await pool.query<{ n: string }>(`SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()`)).rows[0]!.n);
    // 60 alerts alone were 60 commits at least (plus the key checks); grouped, far fewer.
    expect(after - before).toBeLessThan(60);
    expect(await db.alert.count({ where: { teamId: owner.team.id } })).toBe(60);
  });

  it("concurrent groups of one key never deadlock on its rate-limit rows: each group counts in one shard of its own", async () => {
    // A shard drawn per alert made every group of 100 lock every shard: four groups in flight
    // deadlocked (1 s each, deadlock_timeout) and ingest stalled behind them at 100 alerts/s.
    const { owner, key } = await team();
    const deadlocks = async () => Number((await pool.query<{ n: string }>(`SELECT deadlocks AS n FROM pg_stat_database WHERE datname = current_database()`)).rows[0]!.n);
    const before = await deadlocks();
    const responses = await Promise.all(Array.from({ length: 800 }, (_, i) => call(postOne, "/api/v1/alerts", key, { title: `storm ${i}` })));
    expect(responses.map((r) => r.status).filter((status) => status !== 202)).toEqual([]);
    expect(await deadlocks()).toBe(before);
    expect(await db.alert.count({ where: { teamId: owner.team.id } })).toBe(800);
  }, 60_000);

  it("a statement error inside a group: the group is written again one by one, and the others are accepted", async () => {
    const each = (sql: string) => async (items: number[]) => (await pool.query<{ n: number }>(sql, [items])).rows;
    const commit = new GroupCommit(each(`SELECT CASE WHEN x = 3 THEN 1 / (x - 3) ELSE x END AS n FROM unnest($1::int[]) WITH ORDINALITY AS u(x, o) ORDER BY o`));
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => commit.submit(false, i)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value.n : null))).toEqual([0, 1, 2, null, 4, 5]);
  });

  it("holds an alert for more only while alerts keep coming: a lone one goes out at once", async () => {
    // With a 300 ms wait: a alone is written at once, without waiting for b, 100 ms behind it; b
    // came within the wait of a, so it waits for c; d, long after, is alone again.
    const groups: number[][] = [];
    const write = async (items: number[]) => {
      groups.push(items);
      return items;
    };
    const commit = new GroupCommit(write, { waitMs: 300 });
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const a = commit.submit(false, 1);
    await pause(100);
    const bc = [commit.submit(false, 2), (await pause(100), commit.submit(false, 3))];
    expect(await Promise.all([a, ...bc])).toEqual([1, 2, 3]);
    await pause(400);
    expect(await commit.submit(false, 4)).toBe(4);
    expect(groups).toEqual([[1], [2, 3], [4]]);
  });

  it("two items of one key are never written at once, even in two groups: the later starts once the earlier's group is done", async () => {
    // Items are [key, n]; each group's write is noted as it starts and ends, and takes 30 ms, so
    // groups that may overlap do (four at a time).
    const log: string[] = [];
    const write = async (items: [string, number][]) => {
      const names = items.map(([k, n]) => `${k}${n}`).join(",");
      log.push(`start ${names}`);
      await new Promise((resolve) => setTimeout(resolve, 30));
      log.push(`end ${names}`);
      return items.map(([, n]) => n);
    };
    const commit = new GroupCommit(write, { apart: ([k]) => [k] });
    // a1 and b1 go out together; a2 and b2, submitted while that group is written, wait for it.
    const first = [commit.submit(false, ["a", 1]), commit.submit(false, ["b", 1])];
    await new Promise((resolve) => setTimeout(resolve, 10));
    const later = [commit.submit(false, ["a", 2]), commit.submit(false, ["b", 2]), commit.submit(false, ["c", 1])];
    expect(await Promise.all([...first, ...later])).toEqual([1, 1, 2, 2, 1]);
    const at = (event: "start" | "end", item: string) => log.findIndex((line) => line.startsWith(event) && line.split(" ")[1]!.split(",").includes(item));
    expect(at("start", "a2")).toBeGreaterThan(at("end", "a1"));
    expect(at("start", "b2")).toBeGreaterThan(at("end", "b1"));
    // Another key does not wait: c1 went out while the first group was still being written.
    expect(at("start", "c1")).toBeLessThan(at("end", "a1"));
  });

  it("refuses at once with a 503 and Retry-After when more waits than it commits in a second, writing nothing", async () => {
    // One connection, 15 ms a statement: a group of 100 takes 1.5 s, so the alerts queued behind it
    // have waited past a second when their turn comes. They are turned away unwritten, at once.
    const sleeping = (seconds: number) => async (items: number[]) =>
      (await pool.query<{ n: number }>(`SELECT pg_sleep(${seconds}), x AS n FROM unnest($1::int[]) WITH ORDINALITY AS u(x, o) ORDER BY o`, [items])).rows;
    const commit = new GroupCommit(sleeping(0.015), { maxGroups: 1 });
    const results = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => commit.submit(false, i)));
    const refused = results.filter((r) => r.status === "rejected");
    expect(results.slice(0, 100).every((r) => r.status === "fulfilled")).toBe(true);
    expect(refused.length).toBeGreaterThan(100);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "unavailable", retryAfterSeconds: 1 });
    // And a submit while that many wait is refused before it is queued.
    const slow = new GroupCommit(sleeping(0.05), { maxGroups: 1 });
    const flood = Array.from({ length: 2_100 }, (_, i) => slow.submit(false, i).catch((error: unknown) => error));
    expect(slow.overloaded).toBe(true);
    await expect(slow.submit(false, 0)).rejects.toMatchObject({ code: "unavailable" });
    await Promise.all(flood);
  }, 60_000);
});

describe("POST /api/v1/integrations/alertmanager", () => {
  const amAlert = (fingerprint: string, status: "firing" | "resolved", extra: Record<string, unknown> = {}) => ({
    status,
    labels: { alertname: "HighCPU", instance: "db-1:9100", severity: "warning" },
    annotations: { summary: "CPU above 90% on db-1", description: "5 minutes at 97%" },
    startsAt: "2026-12-03T10:00:00Z",
    endsAt: status === "resolved" ? "2026-12-03T10:05:00Z" : "0001-01-01T00:00:00Z",
    generatorURL: "http://prometheus/graph",
    fingerprint,
    ...extra,
  });
  const group = (status: "firing" | "resolved", alerts: unknown[]) => ({ version: "4", groupKey: "{}:{alertname=\"HighCPU\"}", status, receiver: "mon1tor", commonLabels: {}, alerts });

  it("maps firing to triggered and resolved to resolved by fingerprint; a repeat is deduplicated, an unknown resolve ignored", async () => {
    const { owner, key } = await team();
    const fired = (await (await call(postAlertmanager, "/api/v1/integrations/alertmanager", key, group("firing", [amAlert("fp1", "firing")]))).json()) as BatchJson;
    expect(fired).toMatchObject({ accepted: 1, errors: false });
    const alert = await db.alert.findFirstOrThrow({ where: { teamId: owner.team.id } });
    expect(alert).toMatchObject({ title: "CPU above 90% on db-1", severity: "warning", status: "triggered", message: "5 minutes at 97%", monitorId: "HighCPU", monitorName: "HighCPU on db-1:9100", dedupKey: "fp1" });
    expect(alert.startedAt.toISOString()).toBe("2026-12-03T10:00:00.000Z");

    const repeat = (await (await call(postAlertmanager, "/api/v1/integrations/alertmanager", key, group("firing", [amAlert("fp1", "firing")]))).json()) as BatchJson;
    expect(repeat.results[0]).toMatchObject({ status: "deduplicated", id: alert.id });

    const resolved = (await (await call(postAlertmanager, "/api/v1/integrations/alertmanager", key, group("resolved", [amAlert("fp1", "resolved"), amAlert("never-seen", "resolved")]))).json()) as BatchJson;
    expect(resolved.results.map((r) => r.status)).toEqual(["accepted", "ignored"]);
    expect(resolved.results[1]!.reason).toMatch(/No open alert has fingerprint never-seen/);
    expect(await db.alert.findUniqueOrThrow({ where: { id: alert.id } })).toMatchObject({ status: "resolved" });
    expect(await db.alert.count({ where: { teamId: owner.team.id } })).toBe(1);
  });

  it("refuses bad items by their Alertmanager field, cuts a huge annotation, and refuses a malformed group", async () => {
    const { owner, key } = await team();
    const huge = "x".repeat(50_000);
    const response = await call(postAlertmanager, "/api/v1/integrations/alertmanager", key, group("firing", [
      amAlert("ok", "firing", { annotations: { summary: "fine", description: huge } }),
      amAlert("nul", "firing", { labels: { alertname: "a\u0000b" } }),
      amAlert("surrogate", "firing", { annotations: { summary: "\ud800" } }),
      { status: "firing", labels: {} },
      "not an alert",
    ]));
    const json = (await response.json()) as BatchJson;
    expect(json.results.map((r) => r.status)).toEqual(["accepted", "refused", "refused", "refused", "refused"]);
    expect(Object.keys(json.results[4]!.error!.fields!)).toEqual(["alerts.4"]);
    expect(Object.keys(json.results[1]!.error!.fields!)).toContain("alerts.1.labels.alertname");
    expect(Object.keys(json.results[2]!.error!.fields!)).toContain("alerts.2.annotations.summary");
    expect(Object.keys(json.results[3]!.error!.fields!)).toContain("alerts.3.fingerprint");
    expect((await db.alert.findFirstOrThrow({ where: { teamId: owner.team.id } })).message).toHaveLength(10_000);

    for (const [body, field] of [
      [{ alerts: [] }, "status"],
      [group("firing", "not a list" as never), "alerts"],
      [group("firing", Array.from({ length: 1_001 }, () => amAlert("x", "firing"))), "alerts"],
    ] as const) {
      const bad = await call(postAlertmanager, "/api/v1/integrations/alertmanager", key, body);
      expect(bad.status).toBe(422);
      expect(((await bad.json()) as { error: { fields: Record<string, string[]> } }).error.fields).toHaveProperty([field]);
    }
  });

  it("cuts a long summary, name or description of emoji between characters, and accepts it", async () => {
    const { owner, key } = await team();
    // 400 UTF-16 units each: a cut at 299 + "…" would fall inside an emoji's pair.
    const response = await call(postAlertmanager, "/api/v1/integrations/alertmanager", key, group("firing", [
      amAlert("emoji-summary", "firing", { annotations: { summary: "😀".repeat(200), description: "🔥".repeat(6_000) } }),
      amAlert("emoji-name", "firing", { labels: { alertname: "x" + "🔥".repeat(150), instance: "db-1" }, annotations: {} }),
    ]));
    const json = (await response.json()) as BatchJson;
    expect(json.results.map((r) => r.status)).toEqual(["accepted", "accepted"]);
    const alerts = await db.alert.findMany({ where: { teamId: owner.team.id }, orderBy: { dedupKey: "asc" } });
    expect(alerts.map((a) => a.dedupKey)).toEqual(["emoji-name", "emoji-summary"]);
    const [byName, bySummary] = alerts;
    expect(bySummary!.title).toBe(`${"😀".repeat(149)}…`);
    expect(bySummary!.message).toBe(`${"🔥".repeat(4_999)}…`);
    expect(byName!.title).toBe(`x${"🔥".repeat(149)}…`);
    expect(byName!.monitorId).toBe(`x${"🔥".repeat(99)}…`);
  });

  it("takes our API key as a Bearer token, and nothing else", async () => {
    const response = await call(postAlertmanager, "/api/v1/integrations/alertmanager", "mk_wrong_key", group("firing", []));
    expect(response.status).toBe(401);
  });
});
