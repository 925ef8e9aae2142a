// Sending an attempt through a CLI relay, from whichever process dispatches it. The request is
// written to RelayRequest and announced on RELAY_CHANNEL; the web process holding the relay's
// stream (lib/relay/hub.ts) hands it to the CLI, and the CLI's answer comes back into the same
// row (lib/relay/answers.ts). The result is an OutboundResult like an HTTP attempt's: the
// recorder, the failure policy and retries treat both alike.
import type pg from "pg";
import { encrypt } from "@/lib/crypto/encryption";
import { randomId } from "@/lib/crypto/tokens";
import { describeStatus, parseRetryAfter, type ErrorClass, type OutboundResult } from "@/lib/webhooks/delivery/outbound";

/** Payload: "<endpoint id> <request id>". */
export const RELAY_CHANNEL = "mon1tor_relay";
const POLL_MS = 50;

type Answer = {
  id: string;
  pushedAt: Date | null;
  answeredAt: Date | null;
  statusCode: number | null;
  durationMs: number | null;
  errorClass: string | null;
  reason: string | null;
  responseExcerpt: string | null;
  retryAfterSeconds: number | null;
};

/**
 * The requests this process waits on, answered by one poll for all of them every 50 ms (relays
 * are for development: a handful at a time), so no process needs a LISTEN connection of its own.
 */
const waiting = new Map<string, (answer: Answer) => void>();
let polling: NodeJS.Timeout | null = null;

function poll(pool: pg.Pool) {
  polling ??= setInterval(() => {
    if (waiting.size === 0) {
      clearInterval(polling!);
      polling = null;
      return;
    }
    pool
      .query<Answer>(
        `SELECT id, "pushedAt", "answeredAt", "statusCode", "durationMs", "errorClass", reason, "responseExcerpt", "retryAfterSeconds"
         FROM "RelayRequest" WHERE id = ANY($1::text[]) AND "answeredAt" IS NOT NULL`,
        [[...waiting.keys()]],
      )
      .then(
        ({ rows }) => {
          for (const row of rows) waiting.get(row.id)?.(row);
        },
        () => {},
      );
  }, POLL_MS);
}

function resultOfAnswer(answer: Answer): OutboundResult {
  const durationMs = answer.durationMs ?? 0;
  if (answer.statusCode === null) {
    return {
      ok: false,
      statusCode: null,
      errorClass: (answer.errorClass as ErrorClass | null) ?? "network",
      reason: answer.reason ?? "the local receiver gave no answer",
      durationMs,
      responseExcerpt: null,
      retryAfterSeconds: null,
    };
  }
  return { ...describeStatus(answer.statusCode), statusCode: answer.statusCode, durationMs, responseExcerpt: answer.responseExcerpt, retryAfterSeconds: answer.retryAfterSeconds };
}

export async function sendThroughRelay(
  pool: pg.Pool,
  request: { endpointId: string; deliveryId: string; headers: Record<string, string>; body: string; timeoutMs: number },
): Promise<OutboundResult> {
  const started = performance.now();
  const id = randomId("rr");
  await pool.query(
    `WITH queued AS (
       INSERT INTO "RelayRequest" (id, "endpointId", "deliveryId", "headersCiphertext", body) VALUES ($1, $2, $3, $4, $5)
     )
     SELECT pg_notify('${RELAY_CHANNEL}', $2 || ' ' || $1)`,
    [id, request.endpointId, request.deliveryId, encrypt(JSON.stringify(request.headers)), request.body],
  );
  const answer = await new Promise<Answer | null>((resolve) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      resolve(null);
    }, request.timeoutMs);
    waiting.set(id, (row) => {
      clearTimeout(timer);
      waiting.delete(id);
      resolve(row);
    });
    poll(pool);
  });
  // Answered or given up: the row has served. Whether it was ever handed over says why not.
  const { rows } = await pool.query<{ pushedAt: Date | null }>(`DELETE FROM "RelayRequest" WHERE id = $1 RETURNING "pushedAt"`, [id]).catch(() => ({ rows: [] }));
  if (answer) return resultOfAnswer(answer);
  const seconds = request.timeoutMs / 1000;
  return {
    ok: false,
    statusCode: null,
    errorClass: "timeout",
    reason: rows[0]?.pushedAt
      ? `timed out after ${seconds} s: mon1tor listen did not report the local receiver's answer`
      : `timed out after ${seconds} s: no mon1tor listen took the request (the relay disconnected)`,
    durationMs: Math.round(performance.now() - started),
    responseExcerpt: null,
    retryAfterSeconds: null,
  };
}
