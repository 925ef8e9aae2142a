// The group statement's plan (lib/alerts/fast-ingest.ts): its work grows with the group, not with
// the group's square. Two of its parts once ran once per alert over the whole group: the other
// shards of the rate limit were summed for each alert (an inlined CTE in the join), and each
// alert's Idempotency-Key answer counted its deliveries over every target of the group. A batch of
// 100 spent 10 to 18 of its 40 to 80 ms there. PostgreSQL prints the plan as it ran (auto_explain,
// sent to this session as a notice); no node may run once per alert.
import { afterAll, beforeAll, expect, it } from "vitest";
import type pg from "pg";
import { createPool, db } from "@/lib/db";
import { groupItem, writeGroup } from "@/lib/alerts/fast-ingest";
import { limits } from "@/lib/rate-limit";
import { timeOrderedId } from "@/lib/crypto/tokens";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { nodesRunPerRow, type PlanNode } from "@/lib/testing/plans";

const GROUP = 40;
let session: pg.Pool;
const plans: PlanNode[] = [];

beforeAll(async () => {
  // As the ingest pool runs it: one generic plan per connection (lib/db.ts).
  session = createPool(process.env.DATABASE_URL, 1, { genericPlans: true });
  session.on("connect", (client) =>
    client.on("notice", (notice) => {
      if (!notice.message?.startsWith("duration:")) return;
      const json = JSON.parse(notice.message.slice(notice.message.indexOf("{"))) as { "Query Text": string; Plan: PlanNode };
      if (json["Query Text"].includes('INSERT INTO "Alert"')) plans.push(json.Plan);
    }),
  );
  await session.query(`LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;
                       SET auto_explain.log_format = json; SET auto_explain.log_level = notice; SET auto_explain.log_nested_statements = off`);
});
afterAll(async () => {
  await session.end();
});

it("writes a group of alerts, each with an Idempotency-Key, with no part of the plan run once per alert", async () => {
  const team = await createTeam();
  for (const name of ["a", "b", "c"]) await createActiveEndpoint(team.id, `https://example.com/${name}`);
  const limit = limits.alertApiPerKey(`plan-${team.id}`);
  const items = Array.from({ length: GROUP }, (_, i) =>
    groupItem(team, { title: `storm ${i}`, severity: "critical", status: "triggered" }, { limit, idempotency: { key: `plan-${i}`, hash: `h${i}` } }),
  );

  const rows = await writeGroup(items, session);

  // Written as it would be alone: every alert in, each with its three deliveries and its answer stored.
  expect(rows).toHaveLength(GROUP);
  expect(rows.every((row) => row.allowed && row.go && row.inserted && row.deliveryIds.length === 3)).toBe(true);
  const stored = await db.idempotencyRecord.findMany({ where: { teamId: team.id } });
  expect(stored).toHaveLength(GROUP);
  expect(stored.every((record) => (record.response as { deliveriesQueued: number }).deliveriesQueued === 3)).toBe(true);

  expect(plans).toHaveLength(1);
  expect(nodesRunPerRow(plans[0]!, GROUP)).toEqual([]);
});

it("makes its deliveries' ids in time order, as the web process makes ids: between those made before and after, under the database's collation", async () => {
  const team = await createTeam();
  for (const name of ["a", "b"]) await createActiveEndpoint(team.id, `https://example.com/${name}`);
  const limit = limits.alertApiPerKey(`order-${team.id}`);
  const pause = () => new Promise((resolve) => setTimeout(resolve, 3));
  const before = timeOrderedId("msg");
  await pause();
  const rows = await writeGroup([groupItem(team, { title: "ordered", severity: "critical", status: "triggered" }, { limit, idempotency: null })], session);
  await pause();
  const after = timeOrderedId("msg");

  const ids = rows[0]!.deliveryIds;
  expect(ids).toHaveLength(2);
  for (const id of ids) expect(id).toMatch(/^msg_[0-9a-z]{8}[A-Za-z0-9_-]{8}$/);
  const { rows: order } = await session.query<{ ordered: boolean }>(`SELECT bool_and($1 < id AND id < $2) AS ordered FROM unnest($3::text[]) AS id`, [before, after, ids]);
  expect(order[0]!.ordered).toBe(true);
});
