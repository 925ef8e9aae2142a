// `npm run bench:event-queue`: would the queue issue 24 leaves open halve PostgreSQL's CPU and
// WAL per alert? Today (A) each alert's ingest writes one Delivery row per endpoint with its six
// index entries; the claim locks and updates each row in place; the recording updates it again,
// out of the queue's partial indexes (a new row version and three index entries), and inserts its
// attempt. The alternative (C, "the event as the queue"): the ingest writes one queue row per
// alert that lists its endpoints; a claim leases those rows; the recording inserts each endpoint's
// Delivery row once, finished, with its attempt, and deletes the queue row. Only what failed would
// be written queued, for its retry (not measured: every attempt succeeds here, a storm's common case).
//
// A runs the real code (fastIngest, claimDeliveries, recordOutcomes). C runs the real ingest
// statement for a team whose endpoints are not active (so it queues nothing per endpoint), plus
// one INSERT of the chunk's queue rows; then hand-written statements of the same shape as A's:
// the claim's lease, the event's body and the endpoints' settings, and in one transaction the
// finished rows, the attempts, the failure policy and the health rows. What C leaves out and a
// product would need (ordering per alert, per-endpoint caps, parking) is a statement per
// claim, not a row per delivery. PostgreSQL's CPU (its processes' /proc ticks) and its WAL
// (pg_current_wal_insert_lsn) per alert, ingest and dispatch apart; rounds alternate the order.
//   BENCH_ALERTS=2000 alerts × BENCH_ENDPOINTS=10 endpoints per round; BENCH_ROUNDS=4; BENCH_BATCH=500 deliveries per claim
import { ok, postgresCpu, startQueueDesignBench } from "./queue-design";
import type { Claimed } from "../lib/webhooks/delivery/claim";
import type { Outcome } from "../lib/webhooks/delivery/record";

const { server, db, pool, policy, applyFailurePolicy, createActiveEndpoint, fastIngest, claimDeliveries, recordOutcomes, recordHealth } =
  await startQueueDesignBench("event-queue");
const { newDeliveryId } = await import("../lib/webhooks/delivery/envelope");

const ALERTS = Number(process.env.BENCH_ALERTS ?? 2000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 10);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
/** Alerts submitted at once: they share group commits, as a storm's calls do. */
const CONCURRENT = 20;

async function teamWithEndpoints(name: string, active: boolean) {
  const team = await db.team.create({ data: { name } });
  for (let i = 0; i < ENDPOINTS; i++) {
    const { endpoint } = await createActiveEndpoint(team.id, `https://${name}-${i}.example.com/w`);
    if (!active) await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { status: "disabled" } });
  }
  return team;
}
const teamA = await teamWithEndpoints("a", true);
const teamC = await teamWithEndpoints("c", false);
const limit = (team: { id: string }) => ({ key: `k:${team.id}`, limit: 1e9, windowSeconds: 60, shards: 4 });

await pool.query(`
  CREATE TABLE "EventQueue" ("eventId" text PRIMARY KEY, "createdAt" timestamp(3) NOT NULL, endpoints text[] NOT NULL,
                             "leaseExpiresAt" timestamp(3)) WITH (fillfactor = 50);
  CREATE INDEX ON "EventQueue" ("createdAt");`);

await pool.query(`CREATE EXTENSION IF NOT EXISTS pg_walinspect`);
const walLsn = async () => (await pool.query<{ lsn: string }>(`SELECT pg_current_wal_lsn()::text AS lsn`)).rows[0]!.lsn;
/** The WAL written since `from`: in all, and of that the full-page images (each page's first change after a checkpoint). */
async function walSince(from: string) {
  const { rows } = await pool.query<{ bytes: string; fpi: string }>(
    `SELECT COALESCE(sum(combined_size), 0) AS bytes, COALESCE(sum(fpi_size), 0) AS fpi FROM pg_get_wal_stats($1::pg_lsn, pg_current_wal_lsn())`,
    [from],
  );
  return { wal: Number(rows[0]!.bytes), fpi: Number(rows[0]!.fpi) };
}
/** PostgreSQL's CPU seconds and WAL bytes while `work` runs. */
async function measure(work: () => Promise<unknown>) {
  const lsn = await walLsn();
  const cpu = await postgresCpu(work);
  return { cpu, ...(await walSince(lsn)) };
}

async function ingest(team: { id: string; name: string }, afterChunk?: (eventIds: string[]) => Promise<void>) {
  for (let done = 0; done < ALERTS; done += CONCURRENT) {
    const results = await Promise.all(
      Array.from({ length: Math.min(CONCURRENT, ALERTS - done) }, () =>
        fastIngest(team, { title: "storm", severity: "critical", status: "triggered" }, { limit: limit(team), idempotency: null }),
      ),
    );
    const eventIds = results.flatMap((r) => (r.kind === "accepted" ? [r.eventId] : []));
    if (eventIds.length !== results.length) throw new Error("an alert was not accepted");
    await afterChunk?.(eventIds);
  }
}

async function roundA() {
  const ingested = await measure(() => ingest(teamA));
  let n = 0;
  const dispatched = await measure(async () => {
    for (;;) {
      const got: Claimed[] = (await claimDeliveries(pool, { now: null, limit: BATCH, leaseMs: 60_000, inFlight: new Map(), perEndpoint: 1000 })).deliveries;
      if (got.length === 0) break;
      n += got.length;
      const outcomes: Outcome[] = got.map((delivery) => ({ delivery, startedAt: new Date(), result: ok }));
      if ((await recordOutcomes(pool, outcomes, { policy, now: null, random: Math.random })).length > 0) throw new Error("A: not recorded");
    }
  });
  return { n, ingested, dispatched };
}

type Leased = { eventId: string; teamId: string; alertId: string | null; sequence: number | null; createdAt: string; body: string; endpoints: string[] };

async function roundC() {
  const ingested = await measure(() =>
    ingest(teamC, async (eventIds) => {
      // The fanout the ingest statement would write beside the event: its endpoints, one row per alert.
      await pool.query(
        `INSERT INTO "EventQueue" ("eventId", "createdAt", endpoints)
         SELECT ev.id, ev."createdAt", (SELECT array_agg(e.id ORDER BY e.id) FROM "WebhookEndpoint" e WHERE e."teamId" = ev."teamId")
         FROM "Event" ev WHERE ev.id = ANY($1::text[])`,
        [eventIds],
      );
    }),
  );
  let n = 0;
  const dispatched = await measure(async () => {
    for (;;) {
      const leased = (
        await pool.query<Leased>(
          `WITH picked AS (
             SELECT q."eventId" FROM "EventQueue" q
             WHERE q."leaseExpiresAt" IS NULL OR q."leaseExpiresAt" <= now() AT TIME ZONE 'UTC'
             ORDER BY q."createdAt" LIMIT $1
             FOR NO KEY UPDATE SKIP LOCKED
           ), leased AS (
             UPDATE "EventQueue" q SET "leaseExpiresAt" = now() AT TIME ZONE 'UTC' + interval '60 seconds'
             FROM picked WHERE q."eventId" = picked."eventId"
             RETURNING q."eventId", q."createdAt", q.endpoints
           )
           SELECT l."eventId", ev."teamId", ev."alertId", ev.sequence, to_char(l."createdAt", 'YYYY-MM-DD HH24:MI:SS.MS') AS "createdAt", ev.body, l.endpoints
           FROM leased l CROSS JOIN LATERAL (
             SELECT ev."teamId", ev."alertId", ev.sequence, ev.body FROM "Event" ev WHERE ev.id = l."eventId" AND ev."createdAt" = l."createdAt" LIMIT 1
           ) ev`,
          [Math.ceil(BATCH / ENDPOINTS)],
        )
      ).rows;
      if (leased.length === 0) break;
      // What sending needs of each endpoint, as the claim reads it today.
      const endpointIds = [...new Set(leased.flatMap((l) => l.endpoints))];
      const settings = await pool.query(`SELECT id, url, kind, "secretCiphertext", "customHeadersCiphertext" FROM "WebhookEndpoint" WHERE id = ANY($1::text[])`, [endpointIds]);
      if (settings.rowCount !== endpointIds.length) throw new Error("C: an endpoint is missing");
      const sent = leased.flatMap((l) => l.endpoints.map((endpointId) => ({ id: newDeliveryId(), endpointId, event: l, startedAt: new Date() })));
      n += sent.length;
      const col = <T,>(pick: (s: (typeof sent)[number]) => T) => sent.map(pick);
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await client.query(
          `INSERT INTO "Delivery" (id, "teamId", "endpointId", "eventId", "alertId", sequence, status, attempts, "maxAttempts",
                                   "lastStatusCode", "lastLatencyMs", "deliveredAt", "createdAt", "updatedAt")
           SELECT u.id, u.team, u.endpoint, u.event, u.alert, u.sequence, 'delivered', 1, 8, u.code, u.duration,
                  now() AT TIME ZONE 'UTC', u.created, now() AT TIME ZONE 'UTC'
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[], $9::timestamp[])
             AS u(id, team, endpoint, event, alert, sequence, code, duration, created)`,
          [col((s) => s.id), col((s) => s.event.teamId), col((s) => s.endpointId), col((s) => s.event.eventId), col((s) => s.event.alertId),
           col((s) => s.event.sequence), col(() => 200), col(() => 3), col((s) => s.event.createdAt)],
        );
        await client.query(
          `INSERT INTO "DeliveryAttempt" ("deliveryId", number, "startedAt", "durationMs", "statusCode", "errorClass", "errorMessage", "responseExcerpt")
           SELECT u.id, 1, u.started AT TIME ZONE 'UTC', 3, 200, NULL, NULL, '' FROM unnest($1::text[], $2::timestamptz[]) AS u(id, started)`,
          [col((s) => s.id), col((s) => s.startedAt.toISOString())],
        );
        await client.query(`DELETE FROM "EventQueue" WHERE "eventId" = ANY($1::text[])`, [leased.map((l) => l.eventId)]);
        await applyFailurePolicy(client, sent.map((s) => ({ endpointId: s.endpointId, ok: true, newFailure: false, gone: false, reason: null })), policy, null);
        await recordHealth(client, sent.map((s) => ({ endpointId: s.endpointId, startedAt: s.startedAt, ok: true, statusCode: 200, durationMs: 3 })));
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      } finally {
        client.release();
      }
    }
  });
  return { n, ingested, dispatched };
}

const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
type Row = { cpu: number; wal: number; fpi: number };
const totals: Record<"A" | "C", Row[]> = { A: [], C: [] };
const us = (seconds: number) => (seconds * 1e6) / ALERTS;
for (let round = 0; round < rounds; round++) {
  for (const variant of round % 2 ? (["C", "A"] as const) : (["A", "C"] as const)) {
    await pool.query(`VACUUM ANALYZE "Delivery", "Event", "EventQueue"`);
    await pool.query(`CHECKPOINT`);
    const r = variant === "A" ? await roundA() : await roundC();
    if (r.n !== ALERTS * ENDPOINTS) throw new Error(`${variant}: ${r.n} deliveries, not ${ALERTS * ENDPOINTS}`);
    const row = { cpu: us(r.ingested.cpu + r.dispatched.cpu), wal: (r.ingested.wal + r.dispatched.wal) / ALERTS, fpi: (r.ingested.fpi + r.dispatched.fpi) / ALERTS };
    totals[variant].push(row);
    console.log(
      `  round ${round + 1}, ${variant === "A" ? "A (today)          " : "C (event as queue) "}: per alert, PostgreSQL CPU ingest ${us(r.ingested.cpu).toFixed(0)} + dispatch ${us(r.dispatched.cpu).toFixed(0)} = ${row.cpu.toFixed(0)} µs; ` +
        `WAL ${(r.ingested.wal / ALERTS).toFixed(0)} + ${(r.dispatched.wal / ALERTS).toFixed(0)} = ${row.wal.toFixed(0)} bytes, ${row.fpi.toFixed(0)} of them full-page images`,
    );
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const [cpuA, cpuC] = [median(totals.A.map((r) => r.cpu)), median(totals.C.map((r) => r.cpu))];
const [walA, walC] = [median(totals.A.map((r) => r.wal)), median(totals.C.map((r) => r.wal))];
const [recA, recC] = [median(totals.A.map((r) => r.wal - r.fpi)), median(totals.C.map((r) => r.wal - r.fpi))];
console.log(`\n  median per alert of ${ENDPOINTS} deliveries: CPU A ${cpuA.toFixed(0)} µs, C ${cpuC.toFixed(0)} µs (C/A ${(cpuC / cpuA).toFixed(2)}); ` +
  `WAL A ${walA.toFixed(0)}, C ${walC.toFixed(0)} bytes (C/A ${(walC / walA).toFixed(2)}); without full-page images A ${recA.toFixed(0)}, C ${recC.toFixed(0)} (C/A ${(recC / recA).toFixed(2)})`);
await db.$disconnect();
await pool.end();
await server.stop();
