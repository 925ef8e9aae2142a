// The write side of endpoint health (lib/webhooks/endpoints/health.ts): each recorded batch
// adds its attempts to one EndpointHealthHour row per endpoint and hour, in the batch's
// transaction; housekeeping drops the hours no window reads any more.
import type pg from "pg";
import { DB_NOW, namedStatement } from "@/lib/db";
import { BUCKET_COUNT, bucketOf } from "@/lib/webhooks/endpoints/health";

export type AttemptSample = { endpointId: string; startedAt: Date; ok: boolean; statusCode: number | null; durationMs: number };

const HOUR_MS = 3600_000;

/**
 * Adds a batch's attempts to the hourly rows, on the caller's transaction. Rows are
 * written in (endpoint, hour) order so concurrent batches lock them in the same order.
 */
export async function recordHealth(client: pg.ClientBase, samples: AttemptSample[]) {
  if (samples.length === 0) return;
  const rows = new Map<string, { endpointId: string; hour: number; attempts: number; succeeded: number; latency: number[] }>();
  for (const sample of samples) {
    const hour = Math.floor(sample.startedAt.getTime() / HOUR_MS) * HOUR_MS;
    const key = `${sample.endpointId}\u0000${hour}`;
    let row = rows.get(key);
    if (!row) {
      row = { endpointId: sample.endpointId, hour, attempts: 0, succeeded: 0, latency: new Array<number>(BUCKET_COUNT).fill(0) };
      rows.set(key, row);
    }
    row.attempts += 1;
    if (sample.ok) row.succeeded += 1;
    if (sample.statusCode !== null) row.latency[bucketOf(sample.durationMs)]! += 1;
  }
  const sorted = [...rows.values()].sort((a, b) => (a.endpointId < b.endpointId ? -1 : a.endpointId > b.endpointId ? 1 : a.hour - b.hour));
  // Named, as the failure policy's statement is (lib/db.ts).
  await client.query(namedStatement(
    `INSERT INTO "EndpointHealthHour" ("endpointId", hour, attempts, succeeded, latency)
     SELECT u.endpoint, u.hour AT TIME ZONE 'UTC', u.attempts, u.succeeded, u.latency::int[]
     FROM unnest($1::text[], $2::timestamptz[], $3::int[], $4::int[], $5::text[]) AS u(endpoint, hour, attempts, succeeded, latency)
     WHERE EXISTS (SELECT 1 FROM "WebhookEndpoint" e WHERE e.id = u.endpoint)
     ON CONFLICT ("endpointId", hour) DO UPDATE SET
       attempts = "EndpointHealthHour".attempts + excluded.attempts,
       succeeded = "EndpointHealthHour".succeeded + excluded.succeeded,
       latency = ARRAY(SELECT COALESCE(a, 0) + COALESCE(b, 0)
                       FROM unnest("EndpointHealthHour".latency, excluded.latency) WITH ORDINALITY AS t(a, b, i) ORDER BY i)`,
    [
      sorted.map((row) => row.endpointId),
      sorted.map((row) => new Date(row.hour).toISOString()),
      sorted.map((row) => row.attempts),
      sorted.map((row) => row.succeeded),
      sorted.map((row) => `{${row.latency.join(",")}}`),
    ],
  ));
}

/** Hourly rows older than the longest window (7 d) plus a day of slack. */
export async function purgeHealthHours(pool: pg.Pool) {
  const result = await pool.query(`DELETE FROM "EndpointHealthHour" WHERE hour < ${DB_NOW} - interval '8 days'`);
  return result.rowCount ?? 0;
}
