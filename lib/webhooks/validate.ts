// Token validation: GET <url>/<fresh token>. Only a 2xx proves the endpoint; anything
// else leaves it inactive with the reason. The endpoint always ends in a defined state.
import { db, type Tx } from "@/lib/db";
import { randomToken } from "@/lib/crypto/tokens";
import { sendOutbound, USER_AGENT } from "@/lib/webhooks/outbound";
import { policyFromEnv, type DestinationPolicy } from "@/lib/webhooks/ssrf";
import { withTokenSegment } from "@/lib/webhooks/url";

export const VALIDATION_TIMEOUT_MS = 10_000;

export type ValidationOutcome = { ok: boolean; reason: string | null; statusCode: number | null };

/**
 * Runs one validation attempt for an endpoint of `teamId`, records it and sets the status.
 * `onActivated` runs in the same transaction when the endpoint becomes active.
 */
export async function validateEndpoint(
  endpoint: { id: string; teamId: string; url: string },
  policy: DestinationPolicy = policyFromEnv(),
  onActivated?: (tx: Tx) => Promise<unknown>,
): Promise<ValidationOutcome> {
  const token = randomToken(24);
  const target = withTokenSegment(endpoint.url, token);
  const startedAt = new Date();
  const result = await sendOutbound(
    {
      method: "GET",
      url: target,
      headers: { "user-agent": USER_AGENT, "x-mon1tor-validation-token": token },
      timeoutMs: VALIDATION_TIMEOUT_MS,
    },
    policy,
  );

  await db.$transaction(async (tx) => {
    await tx.validationAttempt.create({
      data: {
        endpointId: endpoint.id,
        url: target,
        token,
        startedAt,
        durationMs: result.durationMs,
        statusCode: result.statusCode,
        errorClass: result.errorClass,
        reason: result.reason,
        ok: result.ok,
      },
    });
    // Only if the URL is still the one we checked, and nobody paused it meanwhile.
    const where = { id: endpoint.id, teamId: endpoint.teamId, url: endpoint.url, status: { not: "paused" as const } };
    if (!result.ok) {
      // Deliveries stop here: remember since when, for "Replay the alerts missed since …".
      await tx.webhookEndpoint.updateMany({ where: { ...where, inactiveSince: null }, data: { inactiveSince: new Date() } });
      await tx.webhookEndpoint.updateMany({ where, data: { status: "failed", statusReason: result.reason } });
      return;
    }
    const current = await tx.webhookEndpoint.findFirst({ where, select: { id: true } });
    if (!current) return;
    if (onActivated) await onActivated(tx);
    await tx.webhookEndpoint.updateMany({
      where,
      data: {
        status: "active",
        statusReason: null,
        activatedAt: new Date(),
        disabledAt: null,
        inactiveSince: null,
        consecutiveFailures: 0,
        failingSince: null,
      },
    });
  });
  return { ok: result.ok, reason: result.reason, statusCode: result.statusCode };
}

/** For failures in our own code around a validation: never leave an endpoint pending. */
export async function markValidationCrashed(endpointId: string, teamId: string) {
  await db.webhookEndpoint.updateMany({
    where: { id: endpointId, teamId, status: "pending" },
    data: { status: "failed", statusReason: "internal error" },
  });
}
