// Token validation: GET <url>/<fresh token>. Only a 2xx proves the endpoint; anything
// else leaves it inactive with the reason. The endpoint always ends in a defined state.
import { db, type Tx } from "@/lib/db";
import { randomToken } from "@/lib/crypto/tokens";
import { sendOutbound, USER_AGENT, type OutboundResult } from "@/lib/webhooks/outbound";
import { parkQueued, unparkQueued } from "@/lib/webhooks/backlog";
import { readCustomHeaders } from "@/lib/webhooks/custom-headers";
import { deliveryRateCap, echoesToken } from "@/lib/webhooks/ownership";
import { policyFromEnv, type DestinationPolicy } from "@/lib/webhooks/ssrf";
import { withTokenSegment } from "@/lib/webhooks/url";

export const VALIDATION_TIMEOUT_MS = 10_000;

export type ValidationOutcome = { ok: boolean; reason: string | null; statusCode: number | null; ownershipConfirmed: boolean };

export const NOT_ECHOED_REASON =
  "answered with a 2xx but did not echo the validation token, and this team requires ownership confirmation: send the token back in the response body";

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
  const team = await db.team.findUniqueOrThrow({
    where: { id: endpoint.teamId },
    select: { requireOwnershipConfirmation: true, endpointRateLimitPerMinute: true },
  });
  // A receiver behind a gateway needs its headers for the token GET too.
  const stored = await db.webhookEndpoint.findFirst({ where: { id: endpoint.id, teamId: endpoint.teamId }, select: { customHeadersCiphertext: true } });
  const custom = Object.fromEntries(readCustomHeaders(stored?.customHeadersCiphertext ?? null).map((h) => [h.name.toLowerCase(), h.value]));
  const sent = await sendOutbound(
    {
      method: "GET",
      url: target,
      headers: { ...custom, "user-agent": USER_AGENT, "x-mon1tor-validation-token": token },
      timeoutMs: VALIDATION_TIMEOUT_MS,
    },
    policy,
  );
  const confirmed = sent.ok && echoesToken(sent.responseExcerpt, token);
  const result: OutboundResult =
    sent.ok && !confirmed && team.requireOwnershipConfirmation ? { ...sent, ok: false, errorClass: "http_status", reason: NOT_ECHOED_REASON } : sent;

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
      await parkQueued(tx, [endpoint.id]);
      return;
    }
    const current = await tx.webhookEndpoint.findFirst({ where, select: { id: true } });
    if (!current) return;
    await unparkQueued(tx, endpoint.id);
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
        ownershipConfirmedAt: confirmed ? new Date() : null,
        deliveryRateCap: deliveryRateCap(confirmed, team.endpointRateLimitPerMinute),
      },
    });
  });
  return { ok: result.ok, reason: result.reason, statusCode: result.statusCode, ownershipConfirmed: confirmed };
}

/** For failures in our own code around a validation: never leave an endpoint pending. */
export async function markValidationCrashed(endpointId: string, teamId: string) {
  await db.webhookEndpoint.updateMany({
    where: { id: endpointId, teamId, status: "pending" },
    data: { status: "failed", statusReason: "internal error" },
  });
}
