import "server-only";
import { jsonAnswer } from "@/lib/api/front";
import type { BatchResult } from "@/lib/alerts/batch";

/**
 * A batch's answer: one result per item, in order, and their counts; `errors` is true when any item
 * was refused. 200, unless an item was refused for a while only (rate limit, overload, the database
 * away): then 503 with Retry-After, so that a client or Alertmanager that retries on status alone
 * sends the call again. Items done the first time are then answered as before: replayed under the
 * call's Idempotency-Key, or (Alertmanager) deduplicated by fingerprint.
 */
export function batchResponse({ results, retryAfterSeconds }: BatchResult) {
  const count = (status: string) => results.filter((result) => result.status === status).length;
  const refused = count("refused");
  return jsonAnswer(
    { accepted: count("accepted"), deduplicated: count("deduplicated"), ignored: count("ignored"), refused, errors: refused > 0, results },
    { status: retryAfterSeconds ? 503 : 200, headers: retryAfterSeconds ? { "retry-after": String(retryAfterSeconds) } : {} },
  );
}
