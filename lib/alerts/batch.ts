// Many alerts in one call: the batch API and the Alertmanager receiver. Each item is checked and
// answered on its own (accepted, deduplicated, or refused with the field and the reason), and bad
// input in one never fails the others. New alerts go into the group commit together
// (lib/alerts/fast-ingest.ts); an item that depends on an earlier one (a resolved state for a
// dedupKey) waits for the items before it, so a group keeps its order.
import "server-only";
import { z } from "zod";
import { acceptAlert, type Accepted } from "@/lib/alerts/accept";
import { MAX_BATCH_ITEMS } from "@/lib/alerts/batch-limits";
import { fastPathApplies, groupCommit, overloaded } from "@/lib/alerts/fast-ingest";
import { alertInputSchema, requestHash, type AlertInput } from "@/lib/alerts/ingest";
import { fieldErrorsOf } from "@/lib/actions/define-action";
import { countAccepted, type IngestSource } from "@/lib/metrics/metrics";
import { AppError, databaseUnavailable, isDatabaseUnavailable } from "@/lib/errors";
import { API_KEY_LIMIT_NAME } from "@/lib/api/api-key-route";
import { rateLimited, type Limit } from "@/lib/rate-limit";


export type ItemResult =
  | ({ index: number; status: "accepted" | "deduplicated"; replayed: boolean } & Omit<Accepted, "deduplicated">)
  | { index: number; status: "refused"; error: { code: string; message: string; fields?: Record<string, string[]> } }
  | { index: number; status: "ignored"; reason: string };

export type BatchItem =
  /** An alert ready to ingest; `skip` answers it without ingesting (e.g. a resolve for nothing open). */
  | { input: AlertInput; hashOf: unknown; skip?: (input: AlertInput) => Promise<string | null> }
  | { refused: AppError };

export type BatchResult = { results: ItemResult[]; deliveryIds: string[]; retryAfterSeconds: number | null };

/** Item `index` refused for these fields, each named by its path in the call (`alerts.<index>.<field>`; "" is the item itself). */
export function refusedItem(index: number, fields: Record<string, string[]>): BatchItem {
  const named = Object.fromEntries(Object.entries(fields).map(([field, messages]) => [field ? `alerts.${index}.${field}` : `alerts.${index}`, messages]));
  const [field, messages] = Object.entries(named)[0]!;
  return { refused: new AppError("validation", `Invalid field '${field}': ${messages[0]}`, named) };
}

/** An item of the batch API, checked as the single alert API checks its body. */
export function parseBatchItem(value: unknown, index: number): BatchItem {
  const parsed = alertInputSchema.safeParse(value);
  return parsed.success ? { input: parsed.data, hashOf: value } : refusedItem(index, fieldErrorsOf(parsed.error, ""));
}

export const batchSchema = z.strictObject({
  alerts: z.array(z.unknown()).min(1, "must hold at least one alert").max(MAX_BATCH_ITEMS, `must hold at most ${MAX_BATCH_ITEMS} alerts`),
});

/**
 * Ingests the items in order. With an Idempotency-Key on the call, item i is idempotent under
 * `<key>#<i>` (and the hash of its own JSON): a retried call answers the items done before
 * with their first answers, and does the rest.
 */
export async function ingestBatch(
  team: { id: string; name: string },
  items: BatchItem[],
  options: { limit: Limit; idempotencyKey: string | null; source: IngestSource },
): Promise<BatchResult> {
  // More waiting here than this process commits in a second: the whole call is refused, unwritten.
  if (groupCommit.overloaded) throw overloaded();
  const results: ItemResult[] = new Array(items.length);
  const deliveryIds: string[] = [];
  let retryAfterSeconds: number | null = null;
  let running: Promise<void>[] = [];

  const one = async (item: Extract<BatchItem, { input: AlertInput }>, index: number) => {
    try {
      const reason = item.skip ? await item.skip(item.input) : null;
      if (reason) return void (results[index] = { index, status: "ignored", reason });
      const idempotency = options.idempotencyKey === null ? null : { key: `${options.idempotencyKey}#${index}`, hash: requestHash(JSON.stringify(item.hashOf)) };
      // Admitted as a whole above: its items are not refused one by one for the queue they make themselves.
      const outcome = await acceptAlert(team, item.input, { limit: options.limit, idempotency, admitted: true });
      if (outcome.kind === "rate_limited") throw rateLimited(options.limit, API_KEY_LIMIT_NAME, outcome.state);
      const { deduplicated, ...accepted } = outcome.response;
      results[index] = { index, status: deduplicated ? "deduplicated" : "accepted", replayed: outcome.replayed, ...accepted };
      deliveryIds.push(...outcome.deliveryIds);
    } catch (error) {
      const refusal = error instanceof AppError ? error : isDatabaseUnavailable(error) ? databaseUnavailable() : null;
      if (!refusal) throw error;
      if (refusal.retryAfterSeconds) retryAfterSeconds = Math.max(retryAfterSeconds ?? 0, refusal.retryAfterSeconds);
      results[index] = { index, status: "refused", error: { code: refusal.code, message: refusal.message, ...(refusal.fields ? { fields: refusal.fields } : {}) } };
    }
  };

  for (const [index, item] of items.entries()) {
    if ("refused" in item) {
      const { code, message, fields } = item.refused;
      results[index] = { index, status: "refused", error: { code, message, ...(fields ? { fields } : {}) } };
      continue;
    }
    // New alerts run side by side (one group commit); anything that reads an existing alert waits for those before it.
    if (!item.skip && fastPathApplies(item.input, options.idempotencyKey === null ? null : "#")) {
      running.push(one(item, index));
      continue;
    }
    await Promise.all(running);
    running = [];
    await one(item, index);
  }
  await Promise.all(running);
  countAccepted(options.source, team.id, results);
  return { results, deliveryIds, retryAfterSeconds };
}
