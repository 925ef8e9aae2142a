// What a team controls per endpoint besides its URL: rolling the secret with an overlap,
// event filters, and static headers. Every query carries the caller's team id, and every
// change is audited (never with a secret or a header value in it).
import type pg from "pg";
import { z } from "zod";
import type { TeamContext } from "@/lib/auth/context";
import { audit } from "@/lib/audit";
import { decrypt, encrypt } from "@/lib/crypto/encryption";
import { db, dbNow } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { enforce, limits } from "@/lib/rate-limit";
import { customHeaderSchema, maskValue, MAX_CUSTOM_HEADERS, readCustomHeaders, sealCustomHeaders, type CustomHeader } from "@/lib/webhooks/endpoints/custom-headers";
import { findEndpoint, lockEndpoint } from "@/lib/webhooks/endpoints/lifecycle";
import { describeFilter, filterSchema } from "@/lib/webhooks/endpoints/filters";
import { generateSecret, livePreviousSecret } from "@/lib/webhooks/endpoints/secret";
import { REVALIDATE_EVERY_MS } from "@/lib/webhooks/endpoints/validation";

export const overlapChoices = { now: 0, "1h": 3600, "24h": 24 * 3600, "7d": 7 * 24 * 3600 } as const;
export const rollSecretSchema = z.object({
  endpointId: z.string().min(1).max(64),
  overlap: z.enum(Object.keys(overlapChoices) as [keyof typeof overlapChoices, ...(keyof typeof overlapChoices)[]], {
    error: "Choose how long the old secret stays valid.",
  }),
});

/** A new secret now; the old one keeps signing (see lib/webhooks/delivery/sign.ts) until the overlap ends. */
export async function rollSecret(context: TeamContext, input: z.output<typeof rollSecretSchema>, now = new Date()) {
  const endpoint = await findEndpoint(context.team.id, input.endpointId);
  await enforce(limits.secretRollPerEndpoint(endpoint.id), "secret rolls for this endpoint");
  const seconds = overlapChoices[input.overlap];
  const expiresAt = seconds === 0 ? null : new Date(now.getTime() + seconds * 1000);
  await db.$transaction(async (tx) => {
    // The secret as it is now: a roll made at the same moment in another tab has finished first.
    const current = await lockEndpoint(tx, context.team.id, endpoint.id);
    await tx.webhookEndpoint.updateMany({
      where: { id: endpoint.id, teamId: context.team.id },
      data: {
        secretCiphertext: encrypt(generateSecret()),
        previousSecretCiphertext: expiresAt ? current.secretCiphertext : null,
        previousSecretExpiresAt: expiresAt,
        secretRolledAt: now,
      },
    });
    await audit(tx, context, "endpoint.secret_roll", { type: "endpoint", id: endpoint.id }, { overlap: input.overlap });
  });
  return { previousExpiresAt: expiresAt?.toISOString() ?? null };
}

/** Ends a roll's overlap now: only the new secret signs from here on. */
export async function endSecretOverlap(context: TeamContext, endpointId: string) {
  const endpoint = await findEndpoint(context.team.id, endpointId);
  await db.$transaction(async (tx) => {
    await tx.webhookEndpoint.updateMany({
      where: { id: endpoint.id, teamId: context.team.id },
      data: { previousSecretCiphertext: null, previousSecretExpiresAt: null },
    });
    await audit(tx, context, "endpoint.secret_switch", { type: "endpoint", id: endpoint.id });
  });
}

/** The current secret, or the previous one while its overlap lasts. Every reveal is audited. */
export async function revealSecret(context: TeamContext, endpointId: string, which: "current" | "previous" = "current") {
  const endpoint = await findEndpoint(context.team.id, endpointId);
  const previous = livePreviousSecret(endpoint);
  if (which === "previous" && !previous) throw new AppError("not_found", "This endpoint has no previous secret any more: it expired or was switched off.");
  await audit(db, context, "endpoint.secret_reveal", { type: "endpoint", id: endpoint.id }, { which });
  return decrypt(which === "previous" ? previous! : endpoint.secretCiphertext);
}

/** Removes previous secrets whose overlap is over: after its expiry an old secret is gone from the database. */
export async function purgeExpiredSecrets(pool: pg.Pool, now: Date | null = null) {
  const result = await pool.query(
    `UPDATE "WebhookEndpoint" SET "previousSecretCiphertext" = NULL, "previousSecretExpiresAt" = NULL
     WHERE "previousSecretExpiresAt" <= ${dbNow(1)}`,
    [now?.toISOString() ?? null],
  );
  return result.rowCount ?? 0;
}

export const updateFilterSchema = filterSchema.extend({
  endpointId: z.string().min(1).max(64),
  /** "Skip outdated alert states"; left as it is when not given. */
  skipOutdatedStates: z.boolean().optional(),
  /** "Re-validate daily" (lib/webhooks/endpoints/daily-validation.ts); left as it is when not given. */
  revalidateDaily: z.boolean().optional(),
});

export async function updateFilter(context: TeamContext, input: z.output<typeof updateFilterSchema>) {
  const endpoint = await findEndpoint(context.team.id, input.endpointId);
  const filter = { eventTypes: input.eventTypes, severities: input.severities, monitorIds: input.monitorIds };
  const skip = input.skipOutdatedStates === undefined ? {} : { skipOutdatedStates: input.skipOutdatedStates };
  const revalidate = input.revalidateDaily === undefined ? {} : { revalidateDaily: input.revalidateDaily };
  // Turning it on starts the daily cycle a day from now; the claim ignores the date while off.
  const schedule = input.revalidateDaily && !endpoint.nextRevalidationAt ? { nextRevalidationAt: new Date(Date.now() + REVALIDATE_EVERY_MS) } : {};
  await db.$transaction(async (tx) => {
    await tx.webhookEndpoint.updateMany({ where: { id: endpoint.id, teamId: context.team.id }, data: { ...filter, ...skip, ...revalidate, ...schedule } });
    await audit(tx, context, "endpoint.filter", { type: "endpoint", id: endpoint.id }, { ...filter, ...skip, ...revalidate, summary: describeFilter(filter) });
  });
  return { summary: describeFilter(filter) };
}

/** Names and masked values, for the page: the values themselves never leave the server. */
export async function listCustomHeaders(teamId: string, endpointId: string) {
  const endpoint = await findEndpoint(teamId, endpointId);
  return readCustomHeaders(endpoint.customHeadersCiphertext).map((header) => ({ name: header.name, masked: maskValue(header.value) }));
}

export const addHeaderSchema = customHeaderSchema.extend({ endpointId: z.string().min(1).max(64) });

export async function addCustomHeader(context: TeamContext, input: z.output<typeof addHeaderSchema>) {
  await changeHeaders(context, input.endpointId, { added: input.name }, (headers) => {
    const others = headers.filter((h) => h.name.toLowerCase() !== input.name.toLowerCase());
    if (others.length >= MAX_CUSTOM_HEADERS) {
      throw new AppError("validation", `An endpoint has at most ${MAX_CUSTOM_HEADERS} custom headers. Remove one first.`, {
        name: [`At most ${MAX_CUSTOM_HEADERS} custom headers.`],
      });
    }
    return [...others, { name: input.name, value: input.value }];
  });
}

export async function removeCustomHeader(context: TeamContext, endpointId: string, name: string) {
  await changeHeaders(context, endpointId, { removed: name }, (headers) => {
    const left = headers.filter((h) => h.name.toLowerCase() !== name.toLowerCase());
    if (left.length === headers.length) throw new AppError("not_found", `This endpoint has no header “${name}”.`);
    return left;
  });
}

/** Reads the headers with the endpoint locked and writes `change`'s result: two changes at once both land. */
async function changeHeaders(context: TeamContext, endpointId: string, audited: Record<string, string>, change: (headers: CustomHeader[]) => CustomHeader[]) {
  await db.$transaction(async (tx) => {
    const endpoint = await lockEndpoint(tx, context.team.id, endpointId);
    const headers = change(readCustomHeaders(endpoint.customHeadersCiphertext));
    await tx.webhookEndpoint.updateMany({ where: { id: endpoint.id, teamId: context.team.id }, data: { customHeadersCiphertext: sealCustomHeaders(headers) } });
    // Names only: values are secrets of the receiver's.
    await audit(tx, context, "endpoint.headers", { type: "endpoint", id: endpoint.id }, { ...audited, names: headers.map((h) => h.name).join(", ") });
  });
}
