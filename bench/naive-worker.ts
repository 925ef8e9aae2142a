// The naive dispatcher the bench compares against, in its own process: a lean one-table
// queue (bench_naive), `loops` loops that each claim `batch` rows with SKIP LOCKED, POST
// each over one undici Agent with 64 keep-alive connections per origin, signed like ours,
// then mark the batch done with one UPDATE. No attempt log, no endpoint state, no retries.
// Messages in: "drain" (answers { elapsedMs, delivered, maxRssMb }), "exit".
import pg from "pg";
import { Agent, request } from "undici";
import { deliveryHeaders } from "../lib/webhooks/sign";

export const NAIVE_TABLE_SQL = `
  DROP TABLE IF EXISTS bench_naive;
  CREATE TABLE bench_naive (id bigserial PRIMARY KEY, url text NOT NULL, secret text NOT NULL, body text NOT NULL,
                            done boolean NOT NULL DEFAULT false, locked_until timestamptz);
  CREATE INDEX bench_naive_todo ON bench_naive (id) WHERE NOT done;`;

async function main() {
  const loops = Number(process.env.NAIVE_LOOPS ?? 5);
  const batch = Number(process.env.NAIVE_BATCH ?? 100);
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
      await Promise.all(
        rows.map(async (row) => {
          const headers = deliveryHeaders(row.secret, `msg_naive_${row.id}`, Math.floor(Date.now() / 1000), row.body);
          const response = await request(row.url, { method: "POST", headers, body: row.body, dispatcher: http });
          await response.body.dump();
        }),
      );
      await pool.query(`UPDATE bench_naive SET done = true WHERE id = ANY($1::bigint[])`, [rows.map((row) => row.id)]);
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
