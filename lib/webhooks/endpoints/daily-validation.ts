// Daily re-validation: every active endpoint with "Re-validate daily" on (the default) gets
// the same token GET as at creation, once a day. The worker and the cron route both run it
// (lib/housekeeping.ts); claiming the due endpoints with SKIP LOCKED keeps two runners from
// checking one endpoint twice.
//
// A failure alone does not stop deliveries: it shows in the endpoint's validation history
// and notifies owners and admins. Three failed daily validations in a row mark the endpoint
// "Validation failed" with the last reason; deliveries stop (queued ones are kept) until a
// person re-validates it. Any success resets the count.
import { db, pool, DB_NOW } from "@/lib/db";
import { insertNotifications, type Notice } from "@/lib/notifications/write";
import { policyFromEnv, type DestinationPolicy } from "@/lib/webhooks/delivery/ssrf";
import { attemptData, markValidationFailed, probeEndpoint } from "@/lib/webhooks/endpoints/validation";

export const REVALIDATION_FAILURES_TO_FAIL = 3;
/** Endpoints checked per round; each check takes at most the validation timeout, all in parallel. */
const ROUND_LIMIT = 20;

export const revalidationFailedReason = (reason: string | null) =>
  `${REVALIDATION_FAILURES_TO_FAIL} daily validations in a row failed; last: ${reason ?? "unknown"}`;

type Due = { id: string; teamId: string; url: string };

/** Claims the endpoints due now and moves each one's next check a day ahead. */
async function claimDue(limit: number): Promise<Due[]> {
  const { rows } = await pool.query<Due>(
    `WITH due AS (
       SELECT id FROM "WebhookEndpoint"
       WHERE "nextRevalidationAt" <= ${DB_NOW} AND status = 'active' AND "revalidateDaily"
       ORDER BY "nextRevalidationAt" LIMIT $1 FOR NO KEY UPDATE SKIP LOCKED
     )
     UPDATE "WebhookEndpoint" e SET "nextRevalidationAt" = ${DB_NOW} + interval '1 day'
     FROM due WHERE e.id = due.id
     RETURNING e.id, e."teamId", e.url`,
    [limit],
  );
  return rows;
}

async function revalidateOne(endpoint: Due, policy: DestinationPolicy): Promise<Notice | null> {
  const probe = await probeEndpoint(endpoint, policy);
  return db.$transaction(async (tx) => {
    await tx.validationAttempt.create({ data: attemptData(endpoint.id, probe, true) });
    // Only if it is still the same URL and still active: a person's action meanwhile wins.
    const where = { id: endpoint.id, teamId: endpoint.teamId, url: endpoint.url, status: "active" as const };
    if (probe.result.ok) {
      await tx.webhookEndpoint.updateMany({ where, data: { revalidationFailures: 0 } });
      return null;
    }
    const counted = await tx.webhookEndpoint.updateMany({ where, data: { revalidationFailures: { increment: 1 } } });
    if (counted.count === 0) return null;
    const { revalidationFailures: failures } = await tx.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id }, select: { revalidationFailures: true } });
    if (failures < REVALIDATION_FAILURES_TO_FAIL) {
      return {
        teamId: endpoint.teamId,
        endpointId: endpoint.id,
        kind: "revalidation_failed",
        message: `The daily validation of webhook endpoint ${endpoint.url} failed (${failures} of ${REVALIDATION_FAILURES_TO_FAIL}): ${probe.result.reason}. Deliveries continue; after ${REVALIDATION_FAILURES_TO_FAIL} failed daily validations in a row it is marked Validation failed.`,
      };
    }
    const reason = revalidationFailedReason(probe.result.reason);
    await markValidationFailed(tx, where, reason);
    return {
      teamId: endpoint.teamId,
      endpointId: endpoint.id,
      kind: "revalidation_failed",
      message: `Webhook endpoint ${endpoint.url} was marked Validation failed: ${reason}. Nothing more is sent to it until it validates again.`,
    };
  });
}

/** One round: checks every endpoint due (up to ROUND_LIMIT). Returns how many were checked. */
export async function revalidateDue(policy: DestinationPolicy = policyFromEnv(), limit = ROUND_LIMIT): Promise<number> {
  const due = await claimDue(limit);
  const settled = await Promise.allSettled(due.map((endpoint) => revalidateOne(endpoint, policy)));
  const notices: Notice[] = [];
  for (const outcome of settled) {
    if (outcome.status === "fulfilled") {
      if (outcome.value) notices.push(outcome.value);
    } else {
      console.error("[mon1tor] a daily validation failed in our code:", outcome.reason instanceof Error ? outcome.reason.message : outcome.reason);
    }
  }
  await insertNotifications(pool, notices);
  return due.length;
}
