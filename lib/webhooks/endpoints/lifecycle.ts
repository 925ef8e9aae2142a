// Endpoint lifecycle for a team member. Every query carries the caller's team id.
import { z } from "zod";
import type { TeamContext } from "@/lib/auth/context";
import { audit } from "@/lib/audit";
import { encrypt } from "@/lib/crypto/encryption";
import { db, type Tx } from "@/lib/db";
import { env } from "@/lib/env";
import { AppError, isUniqueViolation, notFound } from "@/lib/errors";
import { enforce, limits } from "@/lib/rate-limit";
import { oneLine } from "@/lib/text";
import { applyBacklogChoice, missedBacklog, parkQueued, unparkQueued, type BacklogChoice } from "@/lib/webhooks/delivery/backlog";
import { generateSecret } from "@/lib/webhooks/endpoints/secret";
import { BlockedDestinationError, checkDestination, policyFromEnv, SchemePolicyError, type DestinationPolicy } from "@/lib/webhooks/delivery/ssrf";
import { endpointUrlSchema } from "@/lib/webhooks/endpoints/url";
import { markValidationCrashed, validateEndpoint, type ValidationOutcome } from "@/lib/webhooks/endpoints/validation";

export const endpointSchema = z.object({
  url: endpointUrlSchema,
  description: oneLine(z.string().trim().max(500, "Use at most 500 characters.").optional()).transform((value) => value || null),
});
export const endpointIdSchema = z.object({ endpointId: z.string().min(1).max(64) });
export const updateEndpointSchema = endpointSchema.extend(endpointIdSchema.shape);
/** Coming back from paused, disabled or failed: what to do with the alerts missed meanwhile. */
export const reactivateSchema = endpointIdSchema.extend({ backlog: z.enum(["replay", "fresh"]).optional() });

const duplicateUrl = () =>
  new AppError("conflict", "This team already has an endpoint with this URL.", {
    url: ["This team already has an endpoint with this URL."],
  });

async function assertDestinationAllowed(url: string, policy: DestinationPolicy) {
  try {
    await checkDestination(new URL(url), policy);
  } catch (error) {
    if (error instanceof BlockedDestinationError || error instanceof SchemePolicyError) {
      const message = `This URL ${error.message}.`;
      throw new AppError("validation", message, { url: [message] });
    }
    throw error;
  }
}

export async function findEndpoint(teamId: string, endpointId: string, client: Tx | typeof db = db) {
  const endpoint = await client.webhookEndpoint.findFirst({ where: { id: endpointId, teamId } });
  if (!endpoint) throw notFound("That webhook endpoint does not exist.");
  return endpoint;
}

/**
 * findEndpoint in a transaction, with the row locked until it ends: changes that read the row
 * and write it back (custom headers, secret rolls) made at the same moment then apply one after
 * the other, and neither is lost.
 */
export async function lockEndpoint(tx: Tx, teamId: string, endpointId: string) {
  await tx.$executeRaw`SELECT 1 FROM "WebhookEndpoint" WHERE id = ${endpointId} AND "teamId" = ${teamId} FOR NO KEY UPDATE`;
  return findEndpoint(teamId, endpointId, tx);
}

/** Validation that always ends in a defined state, even if our own code throws. */
async function runValidation(
  endpoint: { id: string; teamId: string; url: string },
  policy: DestinationPolicy,
  onActivated?: Parameters<typeof validateEndpoint>[2],
) {
  try {
    return await validateEndpoint(endpoint, policy, onActivated);
  } catch (error) {
    console.error("[mon1tor] validation failed in our code:", error instanceof Error ? error.message : error);
    await markValidationCrashed(endpoint.id, endpoint.teamId);
    return { ok: false, reason: "internal error", statusCode: null, ownershipConfirmed: false } satisfies ValidationOutcome;
  }
}

export async function createEndpoint(
  context: TeamContext,
  input: z.output<typeof endpointSchema>,
  policy: DestinationPolicy = policyFromEnv(),
) {
  await assertDestinationAllowed(input.url, policy);
  // Counted before anything is written: a refusal must not leave an endpoint stuck pending.
  await enforce(limits.validationPerTeam(context.team.id), "validation attempts for this team");
  const max = env().MON1TOR_MAX_ENDPOINTS_PER_TEAM;
  let endpoint;
  try {
    endpoint = await db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM "Team" WHERE id = ${context.team.id} FOR UPDATE`;
      const count = await tx.webhookEndpoint.count({ where: { teamId: context.team.id } });
      if (count >= max) {
        throw new AppError("conflict", `This team has reached its limit of ${max} webhook endpoints. Delete one to add another.`);
      }
      const created = await tx.webhookEndpoint.create({
        data: {
          teamId: context.team.id,
          url: input.url,
          description: input.description,
          secretCiphertext: encrypt(generateSecret()),
        },
      });
      await audit(tx, context, "endpoint.create", { type: "endpoint", id: created.id }, { url: created.url });
      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateUrl();
    throw error;
  }
  const validation = await runValidation(endpoint, policy);
  return { endpointId: endpoint.id, validation };
}

export async function updateEndpoint(
  context: TeamContext,
  input: z.output<typeof updateEndpointSchema>,
  policy: DestinationPolicy = policyFromEnv(),
) {
  const existing = await findEndpoint(context.team.id, input.endpointId);
  refuseForRelay(existing, "be edited");
  const urlChanged = existing.url !== input.url;
  const validateNow = urlChanged && existing.status !== "paused";
  if (urlChanged) await assertDestinationAllowed(input.url, policy);
  if (validateNow) await countValidation(context, existing.id);
  try {
    await db.$transaction(async (tx) => {
      await tx.webhookEndpoint.updateMany({
        where: { id: existing.id, teamId: context.team.id },
        data: {
          url: input.url,
          description: input.description,
          // A new URL must prove itself before anything is sent to it; a paused endpoint stays
          // paused, and validates when it is resumed.
          ...(urlChanged
            ? { status: existing.status === "paused" ? "paused" : "pending", statusReason: null, activatedAt: null, ownershipConfirmedAt: null }
            : {}),
        },
      });
      if (urlChanged) await parkQueued(tx, [existing.id]);
      await audit(tx, context, "endpoint.update", { type: "endpoint", id: existing.id }, {
        ...(urlChanged ? { from: existing.url, to: input.url } : {}),
        description: input.description,
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateUrl();
    throw error;
  }
  if (!validateNow) return { validation: null };
  return { validation: await runValidation({ id: existing.id, teamId: context.team.id, url: input.url }, policy) };
}

async function countValidation(context: TeamContext, endpointId: string) {
  await enforce(limits.validationPerEndpoint(endpointId), "validation attempts for this endpoint");
  await enforce(limits.validationPerTeam(context.team.id), "validation attempts for this team");
}

type Endpoint = Awaited<ReturnType<typeof findEndpoint>>;

/** A CLI relay (lib/relay/) is turned on and off by `mon1tor listen` connecting, never by a token. */
function refuseForRelay(endpoint: Endpoint, what: string) {
  if (endpoint.kind === "relay") throw new AppError("conflict", `A CLI relay cannot ${what}: it is active while mon1tor listen is connected.`);
}

/** The owner must say what happens to missed alerts before an inactive endpoint comes back. */
async function backlogChoice(context: TeamContext, endpoint: Endpoint, choice: BacklogChoice | undefined): Promise<BacklogChoice> {
  if (choice) return choice;
  const backlog = await missedBacklog(context.team.id, endpoint);
  if (backlog.count === 0) return "fresh";
  const message = `${backlog.count} alert${backlog.count === 1 ? " was" : "s were"} missed meanwhile: choose "Replay" or "Start fresh".`;
  throw new AppError("validation", message);
}

/**
 * Validates again. For a disabled or validation-failed endpoint this is how it is
 * re-enabled: it becomes active only on a 2xx, and then `backlog` decides about the
 * alerts it missed.
 */
export async function validateAgain(
  context: TeamContext,
  input: { endpointId: string; backlog?: BacklogChoice },
  policy: DestinationPolicy = policyFromEnv(),
) {
  const endpoint = await findEndpoint(context.team.id, input.endpointId);
  refuseForRelay(endpoint, "be validated");
  if (endpoint.status === "paused") throw new AppError("conflict", "Resume the endpoint before validating it.");
  const coming = endpoint.status === "disabled" || endpoint.status === "failed";
  const choice = coming ? await backlogChoice(context, endpoint, input.backlog) : null;
  await countValidation(context, endpoint.id);
  await audit(db, context, "endpoint.validate", { type: "endpoint", id: endpoint.id }, choice ? { backlog: choice } : undefined);
  await db.$transaction(async (tx) => {
    await tx.webhookEndpoint.updateMany({ where: { id: endpoint.id, teamId: context.team.id }, data: { status: "pending", statusReason: null } });
    await parkQueued(tx, [endpoint.id]);
  });
  return runValidation(endpoint, policy, choice ? (tx) => applyBacklogChoice(tx, context.team.id, endpoint, choice) : undefined);
}

/** Only an active or pending endpoint can be paused: a disabled one comes back by re-enabling (validating) it. */
export async function pauseEndpoint(context: TeamContext, endpointId: string) {
  const endpoint = await findEndpoint(context.team.id, endpointId);
  if (endpoint.status === "paused") return;
  if (endpoint.status === "disabled" || endpoint.status === "failed") {
    throw new AppError("conflict", "This endpoint already receives nothing. Use “Re-enable” to validate it and turn it back on.");
  }
  const now = new Date();
  await db.$transaction(async (tx) => {
    await tx.webhookEndpoint.updateMany({
      where: { id: endpoint.id, teamId: context.team.id },
      data: { status: "paused", pausedAt: now, inactiveSince: endpoint.inactiveSince ?? now },
    });
    await parkQueued(tx, [endpoint.id]);
    await audit(tx, context, "endpoint.pause", { type: "endpoint", id: endpoint.id });
  });
}

/**
 * Resuming an endpoint that was active when paused makes it active again; one that was
 * never validated (or whose URL changed while paused) is validated now. Either way
 * `backlog` decides about the alerts missed while paused.
 */
export async function resumeEndpoint(
  context: TeamContext,
  input: { endpointId: string; backlog?: BacklogChoice },
  policy: DestinationPolicy = policyFromEnv(),
) {
  const endpoint = await findEndpoint(context.team.id, input.endpointId);
  if (endpoint.status !== "paused") return null;
  if (endpoint.kind === "relay" && !endpoint.relayStreamId) refuseForRelay(endpoint, "be resumed while mon1tor listen is not connected");
  const choice = await backlogChoice(context, endpoint, input.backlog);
  const validated = endpoint.activatedAt !== null;
  if (!validated) await countValidation(context, endpoint.id);
  await db.$transaction(async (tx) => {
    await tx.webhookEndpoint.updateMany({
      where: { id: endpoint.id, teamId: context.team.id },
      data: validated
        ? { status: "active", pausedAt: null, inactiveSince: null, consecutiveFailures: 0, failingSince: null }
        : { status: "pending", pausedAt: null },
    });
    if (validated) {
      await unparkQueued(tx, endpoint.id);
      await applyBacklogChoice(tx, context.team.id, endpoint, choice);
    }
    await audit(tx, context, "endpoint.resume", { type: "endpoint", id: endpoint.id }, { backlog: choice });
  });
  return validated ? null : runValidation(endpoint, policy, (tx) => applyBacklogChoice(tx, context.team.id, endpoint, choice));
}

export async function deleteEndpoint(context: TeamContext, endpointId: string) {
  const endpoint = await findEndpoint(context.team.id, endpointId);
  // Cascades to its deliveries, so queued retries stop with it.
  await db.$transaction(async (tx) => {
    await tx.webhookEndpoint.deleteMany({ where: { id: endpoint.id, teamId: context.team.id } });
    await audit(tx, context, "endpoint.delete", { type: "endpoint", id: endpoint.id }, { url: endpoint.url });
  });
}
