// The failure policy: what a run of failed deliveries does to an endpoint.
//
// - Each delivery that fails counts once (its retries do not count again); any success
//   resets the count. So one alert retried eight times is one failure, and twenty alerts
//   that all failed are twenty.
// - When the count reaches each notify threshold (5, 10, 15 by default) the team's owners
//   and admins get a notification, in the app and by email when SMTP is configured.
// - An active endpoint is disabled after 20 failed deliveries in a row, or after failing
//   for 5 days without a single success, whichever comes first; 410 Gone disables at once.
// - Coming back from disabled always means validating again (lib/webhooks/endpoints/lifecycle.ts).
import type pg from "pg";
import { dbNow, namedStatement } from "@/lib/db";
import { env } from "@/lib/env";
import { insertNotifications, type Notice } from "@/lib/notifications/write";
import { parkQueued } from "@/lib/webhooks/delivery/backlog";
import { storableText } from "@/lib/text";

export type FailurePolicy = { notifyAt: number[]; disableAfterFailures: number; disableAfterDays: number };

export const GONE_REASON = "endpoint answered 410 Gone";

export function failurePolicyFromEnv(): FailurePolicy {
  const config = env();
  return {
    notifyAt: [...config.MON1TOR_FAILURE_NOTIFY_AT].sort((a, b) => a - b),
    disableAfterFailures: config.MON1TOR_FAILURE_DISABLE_AFTER,
    disableAfterDays: config.MON1TOR_FAILURE_DISABLE_DAYS,
  };
}

/** One attempt's result, as the policy sees it. */
export type AttemptVerdict = { endpointId: string; ok: boolean; newFailure: boolean; gone: boolean; reason: string | null };

/** What one batch of attempts did to one endpoint, in the order the attempts finished. */
type Tally = {
  endpointId: string;
  succeeded: boolean;
  /** New failed deliveries: all of them, or since the batch's last success. */
  failures: number;
  /** Whether any attempt failed after the last success (or at all, without one). */
  failing: boolean;
  gone: boolean;
  lastReason: string | null;
};

export function tally(verdicts: AttemptVerdict[]): Tally[] {
  const byEndpoint = new Map<string, Tally>();
  for (const verdict of verdicts) {
    let entry = byEndpoint.get(verdict.endpointId);
    if (!entry) {
      entry = { endpointId: verdict.endpointId, succeeded: false, failures: 0, failing: false, gone: false, lastReason: null };
      byEndpoint.set(verdict.endpointId, entry);
    }
    if (verdict.ok) {
      entry.succeeded = true;
      entry.failures = 0;
      entry.failing = false;
    } else {
      entry.failing = true;
      entry.lastReason = verdict.reason;
      if (verdict.newFailure) entry.failures += 1;
    }
    entry.gone ||= verdict.gone;
  }
  return [...byEndpoint.values()];
}

type Applied = {
  id: string;
  teamId: string;
  url: string;
  before: number;
  after: number;
  disabled: boolean;
  statusReason: string | null;
  lastReason: string | null;
};

/** Thresholds passed on the way from `before` to `after` failures. */
export function crossedThresholds(notifyAt: number[], before: number, after: number) {
  return notifyAt.filter((threshold) => before < threshold && threshold <= after);
}

/**
 * Applies a batch's results to the endpoints' counters and states, and writes the
 * notifications they call for, on the caller's transaction. `now` null means the database's clock.
 */
/** Returns the notifications it raised (an endpoint failing, or disabled). */
export async function applyFailurePolicy(client: pg.ClientBase, verdicts: AttemptVerdict[], policy: FailurePolicy, now: Date | null): Promise<Notice[]> {
  const tallies = tally(verdicts);
  if (tallies.length === 0) return [];
  const at = dbNow(1);
  // Named: planning it took longer than running it, once per recorded batch (lib/db.ts).
  const { rows } = await client.query<Applied>(namedStatement(
    `WITH u AS (
       SELECT * FROM unnest($2::text[], $3::boolean[], $4::int[], $5::boolean[], $6::boolean[], $7::text[])
         AS u(id, succeeded, failures, failing, gone, reason)
     ), current AS (
       SELECT e.id, e."consecutiveFailures", e."failingSince", e.status FROM "WebhookEndpoint" e JOIN u ON u.id = e.id
       ORDER BY e.id
       -- NO KEY UPDATE, not UPDATE: new deliveries' foreign-key checks (KEY SHARE on the
       -- endpoint) must not queue behind a recording batch during an alert storm.
       FOR NO KEY UPDATE OF e
     ), next AS (
       SELECT u.*, c.status AS old_status,
         CASE WHEN u.succeeded THEN 0 ELSE c."consecutiveFailures" END AS before,
         CASE WHEN u.succeeded THEN u.failures ELSE c."consecutiveFailures" + u.failures END AS after,
         CASE WHEN NOT u.failing THEN NULL WHEN u.succeeded THEN ${at} ELSE COALESCE(c."failingSince", ${at}) END AS failing_since
       FROM u JOIN current c ON c.id = u.id
     ), decided AS (
       SELECT n.*,
         CASE
           WHEN n.old_status <> 'active' THEN NULL
           WHEN n.gone THEN $8
           WHEN n.after >= $9 THEN 'disabled after ' || n.after || ' failed deliveries in a row; last: ' || COALESCE(n.reason, 'unknown')
           WHEN n.failing_since < ${at} - make_interval(secs => $10::double precision * 86400)
             THEN 'disabled after failing for ' || ($10::double precision)::text || ' days without a success; last: ' || COALESCE(n.reason, 'unknown')
         END AS disable_reason
       FROM next n
     )
     UPDATE "WebhookEndpoint" e SET
       "consecutiveFailures" = d.after,
       "failingSince" = d.failing_since,
       "lastFailureAt" = CASE WHEN d.failing THEN ${at} ELSE e."lastFailureAt" END,
       "lastFailureReason" = CASE WHEN d.failing THEN d.reason ELSE e."lastFailureReason" END,
       status = CASE WHEN d.disable_reason IS NULL THEN e.status ELSE 'disabled'::"EndpointStatus" END,
       "statusReason" = COALESCE(d.disable_reason, e."statusReason"),
       "disabledAt" = CASE WHEN d.disable_reason IS NULL THEN e."disabledAt" ELSE ${at} END,
       "inactiveSince" = CASE WHEN d.disable_reason IS NULL THEN e."inactiveSince" ELSE ${at} END,
       "updatedAt" = ${at}
     FROM decided d
     WHERE e.id = d.id
       -- A batch that changes nothing (a healthy endpoint's successes) writes no new row version:
       -- one per endpoint and batch in a storm. Its lock above still orders the batches.
       AND (d.failing OR d.disable_reason IS NOT NULL OR e."consecutiveFailures" <> d.after OR e."failingSince" IS DISTINCT FROM d.failing_since)
     RETURNING e.id, e."teamId", e.url, d.before, d.after, d.disable_reason IS NOT NULL AS disabled, e."statusReason", d.reason AS "lastReason"`,
    [
      now?.toISOString() ?? null,
      tallies.map((t) => t.endpointId),
      tallies.map((t) => t.succeeded),
      tallies.map((t) => t.failures),
      tallies.map((t) => t.failing),
      tallies.map((t) => t.gone),
      tallies.map((t) => storableText(t.lastReason)),
      GONE_REASON,
      policy.disableAfterFailures,
      policy.disableAfterDays,
    ],
  ));

  // A disabled endpoint's queue is parked, so claims for everyone else never scan it.
  await parkQueued(client, rows.filter((row) => row.disabled).map((row) => row.id));

  const notices: Notice[] = [];
  for (const row of rows) {
    const last = row.lastReason ? ` Last failure: ${row.lastReason}.` : "";
    if (row.disabled) {
      notices.push({
        teamId: row.teamId,
        endpointId: row.id,
        kind: "endpoint_disabled",
        message: `Webhook endpoint ${row.url} was disabled: ${row.statusReason}. Nothing more is sent to it until it is re-enabled and validated.`,
      });
      continue;
    }
    const crossed = crossedThresholds(policy.notifyAt, row.before, row.after);
    if (crossed.length > 0) {
      notices.push({
        teamId: row.teamId,
        endpointId: row.id,
        kind: "endpoint_failing",
        message: `Webhook endpoint ${row.url} has failed ${crossed.at(-1)} deliveries in a row.${last}`,
      });
    }
  }
  await insertNotifications(client, notices, now);
  return notices;
}
