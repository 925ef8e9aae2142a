// Team API keys for the alert API: mk_<prefix>_<secret>. The prefix finds the row; the
// SHA-256 of the whole key is compared in constant time. The key is shown once.
import crypto from "node:crypto";
import { z } from "zod";
import type { TeamContext } from "@/lib/auth/context";
import { audit } from "@/lib/audit";
import { randomToken, safeEqual, sha256Hex } from "@/lib/crypto/tokens";
import { db } from "@/lib/db";
import { AppError, notFound } from "@/lib/errors";

export const apiKeyNameSchema = z.object({ name: z.string().trim().min(1, "Give the key a name.").max(100, "Use at most 100 characters.") });

const KEY_PATTERN = /^mk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export async function createApiKey(context: TeamContext, name: string) {
  const prefix = crypto.randomBytes(9).toString("base64url").replace(/[-_]/g, "x").slice(0, 12);
  const key = `mk_${prefix}_${randomToken(32)}`;
  const row = await db.$transaction(async (tx) => {
    const created = await tx.apiKey.create({
      data: { teamId: context.team.id, name, prefix, hash: sha256Hex(key), createdById: context.user.id },
    });
    await audit(tx, context, "api_key.create", { type: "api_key", id: created.id }, { name, prefix });
    return created;
  });
  return { id: row.id, key };
}

export async function revokeApiKey(context: TeamContext, apiKeyId: string) {
  await db.$transaction(async (tx) => {
    const revoked = await tx.apiKey.updateMany({
      where: { id: apiKeyId, teamId: context.team.id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (revoked.count === 0) throw notFound("That API key does not exist or is already revoked.");
    await audit(tx, context, "api_key.revoke", { type: "api_key", id: apiKeyId });
  });
}

export type AuthenticatedKey = { id: string; team: { id: string; name: string } };

/** Resolves `Authorization: Bearer <key>`; 401 for missing or unknown, 403 for revoked. */
export async function authenticateApiKey(authorization: string | null): Promise<AuthenticatedKey> {
  const key = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!key) throw new AppError("unauthorized", "Send your API key as 'Authorization: Bearer <key>'.");
  const match = KEY_PATTERN.exec(key);
  const row = match
    ? await db.apiKey.findUnique({ where: { prefix: match[1] }, include: { team: { select: { id: true, name: true } } } })
    : null;
  if (!row || !safeEqual(row.hash, sha256Hex(key))) throw new AppError("unauthorized", "This API key is not valid.");
  if (row.revokedAt) throw new AppError("forbidden", "This API key has been revoked.");
  // At most one write a minute per key for the "last used" column.
  if (!row.lastUsedAt || row.lastUsedAt.getTime() < Date.now() - 60_000) {
    await db.apiKey.updateMany({
      where: { id: row.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(Date.now() - 60_000) } }] },
      data: { lastUsedAt: new Date() },
    });
  }
  return { id: row.id, team: row.team };
}
