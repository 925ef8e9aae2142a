// The naive dispatcher the bench compares against, in its own process: a lean one-table
// queue (bench_naive), `loops` loops that each claim `batch` rows with SKIP LOCKED, POST
// each over one undici Agent with 64 keep-alive connections per origin, signed like ours,
// then mark the batch done with one UPDATE. No endpoint state, no retries; and no attempt log,
// unless NAIVE_LOG=1: then the same UPDATE also writes one attempt row per delivery (when, how
// long, the status), which shows what an attempt log itself costs.
// Messages in: "drain" (answers { elapsedMs, delivered, maxRssMb }), "exit".
import pg from "pg";
import { Agent, request } from "undici";
import { deliveryHeaders } from "../lib/webhooks/delivery/sign";

export const NAIVE_TABLE_SQL = `
  DROP TABLE IF EXISTS bench_naive;
  CREATE TABLE bench_naive (id bigserial PRIMARY KEY, url text NOT NULL, secret text NOT NULL, body text NOT NULL,
                            done boolean NOT NULL DEFAULT false, locked_until timestamptz);
  CREATE INDEX bench_naive_todo ON bench_naive (id) WHERE NOT done;
  DROP TABLE IF EXISTS bench_naive_attempt;
  CREATE TABLE bench_naive_attempt (naive_id bigint NOT NULL, number int NOT NULL, started_at timestamptz NOT NULL,
                                    duration_ms int NOT NULL, status_code int, PRIMARY KEY (naive_id, number));`;

async function main() {
  const loops = Number(process.env.NAIVE_LOOPS ?? 5);
  const batch = Number(process.env.NAIVE_BATCH ?? 100);
  const withLog = process.env.NAIVE_LOG === "1";
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: loops + 1 });
  const http = new Agent({ connections: 64, keepAliveTimeout: 10_000 });

  async function loop(): Promise<number> {
    let sent = 0;
    for (;;) {
      const { rows } = await pool.query<{ id: string; url: string; secret: string; body: string }>(
        `UPDATE bench_naive SET locked_until = now() + interval '60 seconds'
         WHERE id IN (SELECT id FROM bench_naive WHERE NOT done AND (locked_until IS NULL OR locked_until < now())
                      ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING id, url, secret, body`,
        [batch],
      );
      if (rows.length === 0) return sent;
      const attempts = await Promise.all(
        rows.map(async (row) => {
          const startedAt = new Date();
          const headers = deliveryHeaders(row.secret, `msg_naive_${row.id}`, Math.floor(startedAt.getTime() / 1000), row.body);
          const response = await request(row.url, { method: "POST", headers, body: row.body, dispatcher: http });
          await response.body.dump();
          return { startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime(), status: response.statusCode };
        }),
      );
      const ids = rows.map((row) => row.id);
      if (!withLog) await pool.query(`UPDATE bench_naive SET done = true WHERE id = ANY($1::bigint[])`, [ids]);
      else
        await pool.query(
          `WITH done AS (UPDATE bench_naive SET done = true WHERE id = ANY($1::bigint[]))
           INSERT INTO bench_naive_attempt (naive_id, number, started_at, duration_ms, status_code)
           SELECT id, 1, started_at, duration_ms, status_code FROM unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::int[]) AS a(id, started_at, duration_ms, status_code)`,
          [ids, attempts.map((a) => a.startedAt), attempts.map((a) => a.durationMs), attempts.map((a) => a.status)],
        );
      sent += rows.length;
    }
  }

  process.on("message", async (message: unknown) => {
    if (message === "exit") {
      await pool.end();
      await http.close();
      process.exit(0);
    }
    if (message !== "drain") return;
    const started = performance.now();
    const counts = await Promise.all(Array.from({ length: loops }, loop));
    process.send!({ elapsedMs: performance.now() - started, delivered: counts.reduce((a, b) => a + b, 0), maxRssMb: process.resourceUsage().maxRSS / 1024 });
  });
  process.send!({ ready: true });
}

if (process.send) await main();
