// The supersede lookup (newerStateSql) runs for every retrying outcome a recording batch writes.
// It must read Delivery_unfinished_alert_idx: without the "still queued" condition it read every
// delivery the endpoint ever had, per outcome (627 ms for a batch of 200 over 30,000 rows), and
// a 10-minute soak's workers fell 150,000 deliveries behind.
import { expect, it } from "vitest";
import { pool } from "@/lib/db";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { newerStateSql } from "@/lib/webhooks/delivery/finish";

it("the supersede lookup reads the index of queued alert states, not the endpoint's history", async () => {
  const team = await createTeam();
  const { endpoint } = await createActiveEndpoint(team.id, "http://127.0.0.1:9/hook");
  await pool.query(`UPDATE "WebhookEndpoint" SET "skipOutdatedStates" = true WHERE id = $1`, [endpoint.id]);
  const prefix = `sp${Date.now()}`;
  await pool.query(
    `INSERT INTO "Alert" (id, "teamId", title, severity, status, "startedAt", "lastSequence", "createdAt")
     SELECT $2 || 'a' || g, $1, 't', 'info', 'triggered', now(), 1, now() FROM generate_series(1, 20000) g`,
    [team.id, prefix],
  );
  await pool.query(
    `INSERT INTO "Event" (id, "teamId", type, "alertId", sequence, body, "createdAt")
     SELECT $2 || 'e' || g, $1, 'alert.triggered', $2 || 'a' || g, 1, '{}', now() AT TIME ZONE 'UTC' FROM generate_series(1, 20000) g`,
    [team.id, prefix],
  );
  // Half delivered long ago, half retrying: the endpoint's history the lookup must not read.
  await pool.query(
    `INSERT INTO "Delivery" (id, "teamId", "endpointId", "eventId", "alertId", sequence, status, "nextAttemptAt", "createdAt", "updatedAt")
     SELECT $3 || 'd' || g, $1, $2, $3 || 'e' || g, $3 || 'a' || g, 1,
            CASE WHEN g % 2 = 0 THEN 'delivered' ELSE 'retrying' END::"DeliveryStatus", CASE WHEN g % 2 = 0 THEN NULL ELSE now() END,
            now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
     FROM generate_series(1, 20000) g`,
    [team.id, endpoint.id, prefix],
  );
  await pool.query(`ANALYZE "Delivery"`);
  const ids = Array.from({ length: 200 }, (_, i) => `${prefix}d${2 * i + 1}`);
  const { rows } = await pool.query<{ "QUERY PLAN": string }>(
    `EXPLAIN (ANALYZE, BUFFERS) SELECT d.id, ${newerStateSql("d")} AS newer FROM "Delivery" d WHERE d.id = ANY($1::text[]) AND d."alertId" IS NOT NULL`,
    [ids],
  );
  const plan = rows.map((row) => row["QUERY PLAN"]).join("\n");
  expect(plan).toContain("unfinished_alert_idx");
  expect(plan).not.toMatch(/Seq Scan on "Delivery_\w+" n_/);
  // 200 lookups of a few pages each, not 200 reads of 10,000 rows (225,000 pages before).
  const buffers = Number(/Buffers: shared hit=(\d+)/.exec(plan)?.[1] ?? Infinity);
  expect(buffers).toBeLessThan(20_000);
}, 60_000);
