// Token validation: GET <url>/<fresh token>. Only a 2xx proves the endpoint; anything
// else leaves it inactive with the reason. The endpoint always ends in a defined state.
import { db, pool, type Tx } from "@/lib/db";
import type { Prisma } from "@/lib/generated/prisma/client";
import { randomToken } from "@/lib/crypto/tokens";
import { sendOutbound, USER_AGENT, type OutboundResult } from "@/lib/webhooks/delivery/outbound";
import { parkQueued, unparkQueued } from "@/lib/webhooks/delivery/backlog";
import { readCustomHeaders } from "@/lib/webhooks/endpoints/custom-headers";
import { deliveryRateCap, echoesToken } from "@/lib/webhooks/endpoints/ownership";
import { policyFromEnv, type DestinationPolicy } from "@/lib/webhooks/delivery/ssrf";
import { noteCertificates } from "@/lib/webhooks/endpoints/certificates";
import { withTokenSegment } from "@/lib/webhooks/endpoints/url";

export const VALIDATION_TIMEOUT_MS = 10_000;

export type ValidationOutcome = { ok: boolean; reason: string | null; statusCode: number | null; ownershipConfirmed: boolean };

export const NOT_ECHOED_REASON =
  "answered with a 2xx but did not echo the validation token, and this team requires ownership confirmation: send the token back in the response body";

/**
 * Runs one validation attempt for an endpoint of `teamId`, records it and sets the status.
 * `onActivated` runs in the same transaction when the endpoint becomes active.
 */
export const REVALIDATE_EVERY_MS = 24 * 3600 * 1000;

export type Probe = { token: string; target: string; startedAt: Date; result: OutboundResult; confirmed: boolean; team: { endpointRateLimitPerMinute: number | null } };

/**
 * The token GET itself: a fresh token appended to the URL, the endpoint's custom headers,
 * and the team's ownership rule applied to the answer. Notes the TLS certificate it saw.
 * Writes nothing else; callers decide what the result means.
 */
export async function probeEndpoint(endpoint: { id: string; teamId: string; url: string }, policy: DestinationPolicy): Promise<Probe> {
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
  if (sent.certificate) await noteCertificates(pool, [{ endpointId: endpoint.id, certificate: sent.certificate }]);
  const confirmed = sent.ok && echoesToken(sent.responseExcerpt, token);
  const result: OutboundResult =
    sent.ok && !confirmed && team.requireOwnershipConfirmation ? { ...sent, ok: false, errorClass: "http_status", reason: NOT_ECHOED_REASON } : sent;
  return { token, target, startedAt, result, confirmed, team };
}

/** The attempt row of a probe, for the endpoint's validation history. */
export const attemptData = (endpointId: string, probe: Probe, scheduled: boolean) => ({
  endpointId,
  url: probe.target,
  token: probe.token,
  startedAt: probe.startedAt,
  durationMs: probe.result.durationMs,
  statusCode: probe.result.statusCode,
  errorClass: probe.result.errorClass,
  reason: probe.result.reason,
  ok: probe.result.ok,
  scheduled,
});

/**
 * Runs one validation attempt for an endpoint of `teamId`, records it and sets the status.
 * `onActivated` runs in the same transaction when the endpoint becomes active.
 */
export async function validateEndpoint(
  endpoint: { id: string; teamId: string; url: string },
  policy: DestinationPolicy = policyFromEnv(),
  onActivated?: (tx: Tx) => Promise<unknown>,
): Promise<ValidationOutcome> {
  const probe = await probeEndpoint(endpoint, policy);
  const { result, confirmed, team } = probe;

  await db.$transaction(async (tx) => {
    await tx.validationAttempt.create({ data: attemptData(endpoint.id, probe, false) });
    // Only if the URL is still the one we checked, and nobody paused it meanwhile.
    const where = { id: endpoint.id, teamId: endpoint.teamId, url: endpoint.url, status: { not: "paused" as const } };
    if (!result.ok) {
      await markValidationFailed(tx, where, result.reason);
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
        revalidationFailures: 0,
        nextRevalidationAt: new Date(Date.now() + REVALIDATE_EVERY_MS),
        ownershipConfirmedAt: confirmed ? new Date() : null,
        deliveryRateCap: deliveryRateCap(confirmed, team.endpointRateLimitPerMinute),
      },
    });
  });
  return { ok: result.ok, reason: result.reason, statusCode: result.statusCode, ownershipConfirmed: confirmed };
}

/**
 * "Validation failed" with `reason`, where `where` still matches. Deliveries stop here:
 * remember since when (for "Replay the alerts missed since …") and park the queue.
 */
export async function markValidationFailed(tx: Tx, where: Prisma.WebhookEndpointWhereInput & { id: string }, reason: string | null) {
  await tx.webhookEndpoint.updateMany({ where: { ...where, inactiveSince: null }, data: { inactiveSince: new Date() } });
  await tx.webhookEndpoint.updateMany({ where, data: { status: "failed", statusReason: reason } });
  await parkQueued(tx, [where.id]);
}

/** For failures in our own code around a validation: never leave an endpoint pending. */
export async function markValidationCrashed(endpointId: string, teamId: string) {
  await db.webhookEndpoint.updateMany({
    where: { id: endpointId, teamId, status: "pending" },
    data: { status: "failed", statusReason: "internal error" },
  });
}
