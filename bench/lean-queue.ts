// `npm run bench:lean-queue`: what the lean hot queue table proposed in issue 9 would save
// PostgreSQL. Today Delivery is the queue: a recorded result leaves the claim's partial indexes,
// so it is not updated in place and each of Delivery's other indexes gets an entry. The
// alternative measured here: a queue table Q (the claim's index only) beside a Delivery with only
// its primary key, (endpointId, createdAt) and eventId indexes, whose recorded result is then an
// in-place (HOT) update, and whose queue row is deleted. Variant A runs the real claim and record
// code; variant B hand-written statements of the same shape (fair share per endpoint, lock and
// lease, attempt rows with their foreign key, the failure policy and health rows). PostgreSQL's
// CPU per delivery for claiming and for recording, one statement after another (no contention),
// rounds alternating. Moving new deliveries into Q is not measured: it would cost the ingest.
//   BENCH_ALERTS=2000 alerts × 10 endpoints per round; BENCH_ROUNDS=4; BENCH_BATCH=256 per claim
import { ok, postgresCpu as measure, startQueueDesignBench } from "./queue-design";
import type { Claimed } from "../lib/webhooks/delivery/claim";
import type { Outcome } from "../lib/webhooks/delivery/record";

const { server, db, pool, policy, applyFailurePolicy, createActiveEndpoint, fastIngest, claimDeliveries, recordOutcomes, recordHealth } =
  await startQueueDesignBench("lean-queue");
const team = await db.team.create({ data: { name: "s" } });
for (let i = 0; i < 10; i++) await createActiveEndpoint(team.id, `https://r-${i}.example.com/w`);
const limit = { key: `k:${team.id}`, limit: 1e9, windowSeconds: 60, shards: 4 };
const BATCH = Number(process.env.BENCH_BATCH ?? 256);
const ALERTS = Number(process.env.BENCH_ALERTS ?? 2000);
await pool.query(`
  CREATE TABLE "DeliveryB" (LIKE "Delivery" INCLUDING DEFAULTS) WITH (fillfactor = 50);
  ALTER TABLE "DeliveryB" ADD PRIMARY KEY (id);
  CREATE INDEX ON "DeliveryB" ("endpointId", "createdAt");
  CREATE INDEX ON "DeliveryB" ("eventId");
  ALTER TABLE "DeliveryB" ADD FOREIGN KEY ("endpointId") REFERENCES "WebhookEndpoint"(id) ON DELETE CASCADE;
  -- No foreign key to Event, as Delivery has none since Event is partitioned (its key is (id, "createdAt")).
  CREATE TABLE "AttemptB" (LIKE "DeliveryAttempt" INCLUDING DEFAULTS);
  ALTER TABLE "AttemptB" ADD PRIMARY KEY ("deliveryId", number);
  ALTER TABLE "AttemptB" ADD FOREIGN KEY ("deliveryId") REFERENCES "DeliveryB"(id) ON DELETE CASCADE;
  CREATE TABLE "Q" (id text PRIMARY KEY REFERENCES "DeliveryB"(id) ON DELETE CASCADE, "endpointId" text NOT NULL,
                    "nextAttemptAt" timestamp(3) NOT NULL, "leaseExpiresAt" timestamp(3), attempts int NOT NULL DEFAULT 0) WITH (fillfactor = 50);
  CREATE INDEX ON "Q" ("endpointId", "nextAttemptAt");`);
async function roundA() {
  let claimCpu = 0;
  let recordCpu = 0;
  let n = 0;
  for (;;) {
    let got: Claimed[] = [];
    claimCpu += await measure(async () => {
      got = (await claimDeliveries(pool, { now: null, limit: BATCH, leaseMs: 60_000, inFlight: new Map(), perEndpoint: 1000 })).deliveries;
    });
    if (got.length === 0) break;
    n += got.length;
    const outcomes: Outcome[] = got.map((delivery) => ({ delivery, startedAt: new Date(), result: ok }));
    recordCpu += await measure(() => recordOutcomes(pool, outcomes, { policy, now: null, random: Math.random }));
  }
  return { n, claim: (claimCpu / n) * 1e6, record: (recordCpu / n) * 1e6, hot: null };
}

async function roundB() {
  // The new deliveries move over (not measured): Delivery rows to DeliveryB, a queue row each.
  await pool.query(`INSERT INTO "DeliveryB" SELECT * FROM "Delivery" WHERE status = 'pending'`);
  await pool.query(`INSERT INTO "Q" (id, "endpointId", "nextAttemptAt") SELECT id, "endpointId", "nextAttemptAt" FROM "DeliveryB" WHERE status = 'pending' ON CONFLICT DO NOTHING`);
  await pool.query(`DELETE FROM "Delivery" WHERE status = 'pending'`);
  await pool.query(`VACUUM ANALYZE "DeliveryB", "Q", "Delivery"`);
  let claimCpu = 0;
  let recordCpu = 0;
  let n = 0;
  for (;;) {
    let rows: { id: string; attempts: number; endpointId: string; body: string }[] = [];
    claimCpu += await measure(async () => {
      rows = (await pool.query(`
        WITH eps AS (SELECT e.id FROM "WebhookEndpoint" e WHERE e.status = 'active' AND EXISTS (SELECT 1 FROM "Q" q WHERE q."endpointId" = e.id)),
        due AS MATERIALIZED (
          SELECT q.* FROM eps CROSS JOIN LATERAL (
            SELECT q.id, q."nextAttemptAt" FROM "Q" q
            WHERE q."endpointId" = eps.id AND q."nextAttemptAt" <= (now() AT TIME ZONE 'UTC') AND (q."leaseExpiresAt" IS NULL OR q."leaseExpiresAt" <= (now() AT TIME ZONE 'UTC'))
            ORDER BY q."nextAttemptAt" LIMIT $1) q),
        candidates AS (SELECT id FROM due ORDER BY "nextAttemptAt" LIMIT $1),
        picked AS (SELECT q.id FROM "Q" q JOIN candidates c ON c.id = q.id
                   WHERE (q."leaseExpiresAt" IS NULL OR q."leaseExpiresAt" <= (now() AT TIME ZONE 'UTC')) FOR NO KEY UPDATE OF q SKIP LOCKED)
        UPDATE "Q" q SET "leaseExpiresAt" = (now() AT TIME ZONE 'UTC') + interval '60 seconds', attempts = q.attempts + 1
        FROM picked, "DeliveryB" d, "Event" ev, "WebhookEndpoint" e
        WHERE q.id = picked.id AND d.id = q.id AND ev.id = d."eventId" AND e.id = d."endpointId"
        RETURNING q.id, q.attempts, d."maxAttempts", d."endpointId", e.url, e."secretCiphertext", e."previousSecretCiphertext", e."customHeadersCiphertext", ev.body`, [BATCH])).rows;
    });
    if (rows.length === 0) break;
    n += rows.length;
    recordCpu += await measure(async () => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const ids = rows.map((r) => r.id);
        const updated = await client.query(`
          UPDATE "DeliveryB" d SET status = u.status::"DeliveryStatus", attempts = u.attempts, "lastStatusCode" = u.code, "lastError" = u.reason,
            "lastLatencyMs" = u.duration, "deliveredAt" = now() AT TIME ZONE 'UTC', "updatedAt" = now() AT TIME ZONE 'UTC', "nextAttemptAt" = NULL
          FROM unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::text[], $6::int[]) AS u(id, attempts, status, code, reason, duration)
          WHERE d.id = ANY($1::text[]) AND d.id = u.id RETURNING d.id`,
          [ids, rows.map((r) => r.attempts), rows.map(() => "delivered"), rows.map(() => 200), rows.map(() => null), rows.map(() => 3)]);
        await client.query(`DELETE FROM "Q" q USING unnest($1::text[], $2::int[]) AS u(id, attempts) WHERE q.id = ANY($1::text[]) AND q.id = u.id AND q.attempts = u.attempts`, [ids, rows.map((r) => r.attempts)]);
        await client.query(`
          INSERT INTO "AttemptB" ("deliveryId", number, "startedAt", "durationMs", "statusCode", "errorClass", "errorMessage", "responseExcerpt")
          SELECT u.id, u.number, u.started AT TIME ZONE 'UTC', u.duration, u.code, u.class, u.reason, u.excerpt
          FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::text[], $8::text[]) AS u(id, number, started, duration, code, class, reason, excerpt)
          WHERE EXISTS (SELECT 1 FROM "DeliveryB" d WHERE d.id = u.id)
          ON CONFLICT ("deliveryId", number) DO NOTHING RETURNING "deliveryId" AS id`,
          [ids, rows.map((r) => r.attempts), rows.map(() => new Date().toISOString()), rows.map(() => 3), rows.map(() => 200), rows.map(() => null), rows.map(() => null), rows.map(() => "")]);
        await applyFailurePolicy(client, rows.map((r) => ({ endpointId: r.endpointId, ok: true, newFailure: false, gone: false, reason: null })), policy, null);
        await recordHealth(client, rows.map((r) => ({ endpointId: r.endpointId, startedAt: new Date(), ok: true, statusCode: 200, durationMs: 3 })));
        await client.query("COMMIT");
        if (updated.rowCount !== rows.length) throw new Error("B: not every row updated");
      } finally {
        client.release();
      }
    });
  }
  const hot = await pool.query<{ n_tup_upd: string; n_tup_hot_upd: string }>(`SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'DeliveryB'`);
  return { n, claim: (claimCpu / n) * 1e6, record: (recordCpu / n) * 1e6, hot: hot.rows[0]! };
}

const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
const totals: Record<string, number[]> = {};
for (let round = 0; round < rounds; round++) {
  for (const variant of round % 2 ? ["B", "A"] : ["A", "B"]) {
    for (let i = 0; i < ALERTS; i++) await fastIngest(team, { title: "x", severity: "critical", status: "triggered" }, { limit, idempotency: null });
    await pool.query(`VACUUM ANALYZE "Delivery"`);
    const r = variant === "A" ? await roundA() : await roundB();
    (totals[variant] ??= []).push(r.claim + r.record);
    const inPlace = r.hot ? `; DeliveryB updated in place ${r.hot.n_tup_hot_upd} of ${r.hot.n_tup_upd} times so far` : "";
    console.log(`  round ${round + 1}, ${variant === "A" ? "A (Delivery as the queue)" : "B (lean queue table)  "}: PostgreSQL µs per delivery: claim ${r.claim.toFixed(0)}, record ${r.record.toFixed(0)}, together ${(r.claim + r.record).toFixed(0)}${inPlace}`);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`\n  median: A ${median(totals.A!).toFixed(0)} µs, B ${median(totals.B!).toFixed(0)} µs per delivery; B/A ${(median(totals.B!) / median(totals.A!)).toFixed(2)}`);
await db.$disconnect();
await pool.end();
await server.stop();
