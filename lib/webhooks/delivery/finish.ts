// Ending a delivery for good, and when an older state of an alert is outdated: each rule written
// once, as SQL that the statements applying it inline.

/** A delivery's final states other than delivered (recording writes that one with each batch). */
export type FinalStatus = "failed" | "expired" | "superseded";

/**
 * The SET list that ends a delivery: its final status and why, and out of the queue (no next
 * attempt, no lease), so neither of the claim's scans nor a lease renewal sees it again. Used
 * when the claim gives one up, when recording quarantines one, when deliveries expire or are
 * skipped (backlog.ts) and when a newer state supersedes one (enqueue.ts). `reason` and `now`
 * are SQL expressions: a parameter, a CASE, DB_NOW.
 */
export const finishDeliverySql = (status: FinalStatus, reason: string, now: string) =>
  `status = '${status}', "nextAttemptAt" = NULL, "leaseExpiresAt" = NULL, "lastError" = ${reason}, "updatedAt" = ${now}`;

/**
 * "Skip outdated alert states": the event id of the newest state of delivery row `d`'s alert
 * that was queued for `d`'s endpoint after it and is still queued, when that endpoint skips
 * outdated states; else NULL. (A newer state cannot have been sent while `d` waits: the claim
 * keeps an alert's states in order.) "Still queued" is what lets the lookup read
 * Delivery_unfinished_alert_idx: without it, each lookup read every delivery of the endpoint,
 * and a 10-minute soak's recording batches slowed until the workers fell 150,000 behind.
 * Queuing a newer state supersedes the older ones still waiting (enqueue.ts); an older state
 * whose attempt fails is superseded rather than retried (record.ts).
 */
export const newerStateSql = (d: string) => `(
  SELECT n."eventId" FROM "Delivery" n JOIN "WebhookEndpoint" e ON e.id = n."endpointId" AND e."skipOutdatedStates"
  WHERE n."endpointId" = ${d}."endpointId" AND n."alertId" = ${d}."alertId" AND n.sequence > ${d}.sequence
    AND n."nextAttemptAt" IS NOT NULL
  ORDER BY n.sequence DESC LIMIT 1)`;
