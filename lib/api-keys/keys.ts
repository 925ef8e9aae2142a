// Team API keys for the alert API: mk_<prefix>_<secret>. The prefix finds the row; the
// SHA-256 of the whole key is compared in constant time. The key is shown once.
import crypto from "node:crypto";
import { z } from "zod";
import type { TeamContext } from "@/lib/auth/context";
import { audit } from "@/lib/audit";
import { randomToken, safeEqual, sha256Hex } from "@/lib/crypto/tokens";
import { db } from "@/lib/db";
import { AppError, notFound } from "@/lib/errors";
import { checkedValues, oneLine } from "@/lib/text";
import { apiKeyPermissionLabels, apiKeyPermissions, type ApiKeyPermission } from "@/lib/api-keys/permissions";

export const apiKeySchema = z.object({
  name: oneLine(z.string().trim().min(1, "Give the key a name.").max(100, "Use at most 100 characters.")),
  // Left out (an older client), a key sends alerts.
  permissions: checkedValues(apiKeyPermissions)
    .transform((list) => list ?? ["alerts:send" as const])
    .refine((list) => list.length > 0, "Choose at least one permission."),
});

const KEY_PATTERN = /^mk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export async function createApiKey(context: TeamContext, { name, permissions }: z.output<typeof apiKeySchema>) {
  const prefix = crypto.randomBytes(9).toString("base64url").replace(/[-_]/g, "x").slice(0, 12);
  const key = `mk_${prefix}_${randomToken(32)}`;
  const row = await db.$transaction(async (tx) => {
    const created = await tx.apiKey.create({
      data: { teamId: context.team.id, name, permissions, prefix, hash: sha256Hex(key), createdById: context.user.id },
    });
    await audit(tx, context, "api_key.create", { type: "api_key", id: created.id }, { name, prefix, permissions });
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
  forgetCheckedKey(apiKeyId);
}

export type AuthenticatedKey = { id: string; name: string; permissions: readonly string[]; team: { id: string; name: string } };

/** 403 unless the key was created with `permission`. */
export function requirePermission(key: AuthenticatedKey, permission: ApiKeyPermission) {
  if (!key.permissions.includes(permission)) {
    throw new AppError("forbidden", `This API key does not have the “${apiKeyPermissionLabels[permission]}” permission. Create a key with it under Settings → API keys.`);
  }
}

/**
 * How long a process trusts a key it has checked without asking the database again. A key
 * revoked elsewhere stops working within this; revoking in this process evicts at once.
 */
export const KEY_CACHE_MS = 5_000;
const checked = new Map<string, { hash: string; key: AuthenticatedKey; until: number }>();
const MAX_CACHED_KEYS = 10_000;

/** Resolves `Authorization: Bearer <key>`; 401 for missing or unknown, 403 for revoked. */
export async function authenticateApiKey(authorization: string | null, now = Date.now()): Promise<AuthenticatedKey> {
  const key = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!key) throw new AppError("unauthorized", "Send your API key as 'Authorization: Bearer <key>'.");
  const match = KEY_PATTERN.exec(key);
  if (!match) throw new AppError("unauthorized", "This API key is not valid.");
  const prefix = match[1]!;
  const hash = sha256Hex(key);
  const cached = checked.get(prefix);
  if (cached && cached.until > now) {
    if (!safeEqual(cached.hash, hash)) throw new AppError("unauthorized", "This API key is not valid.");
    // Renewed in the background in its last second, so a storm never waits for the check.
    if (cached.until - now < KEY_REFRESH_AHEAD_MS) lookupOnce(prefix, now).catch(() => {});
    return cached.key;
  }
  checked.delete(prefix);
  const row = await lookupOnce(prefix, now);
  if (!row || !safeEqual(row.hash, hash)) throw new AppError("unauthorized", "This API key is not valid.");
  if (row.revokedAt) throw new AppError("forbidden", "This API key has been revoked.");
  return row.key;
}

type LookedUp = { hash: string; revokedAt: Date | null; key: AuthenticatedKey } | null;
const KEY_REFRESH_AHEAD_MS = 1_000;
const lookups = new Map<string, Promise<LookedUp>>();

/**
 * One lookup per prefix at a time: in a storm, every request that arrived while the cache
 * entry was being renewed had run its own lookup and "last used" write (one commit each).
 */
function lookupOnce(prefix: string, now: number): Promise<LookedUp> {
  let lookup = lookups.get(prefix);
  if (!lookup) {
    const started: Promise<LookedUp> = readKey(prefix, now).finally(() => {
      if (lookups.get(prefix) === started) lookups.delete(prefix);
    });
    lookups.set(prefix, (lookup = started));
  }
  return lookup;
}

/** Bumped by every revocation in this process: a lookup that started before one caches nothing, and later requests do not join it. */
let revocations = 0;

const findKey = (prefix: string) => db.apiKey.findUnique({ where: { prefix }, include: { team: { select: { id: true, name: true } } } });
/** The "last used" column, written at most once a minute per key. */
const markUsed = (id: string, now: number) =>
  db.apiKey.updateMany({
    where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now - 60_000) } }] },
    data: { lastUsedAt: new Date(now) },
  });

/**
 * Runs the lookup's two queries once for no key, at start-up (instrumentation.ts): a web process
 * just started had its first alert calls of a storm wait for Prisma's first queries.
 */
export async function warmKeyLookup() {
  await findKey("");
  await markUsed("", Date.now());
}

/** Reads the key's row; a key that is valid, and not revoked here meanwhile, is trusted for KEY_CACHE_MS. */
async function readKey(prefix: string, now: number): Promise<LookedUp> {
  const generation = revocations;
  const row = await findKey(prefix);
  if (!row || row.revokedAt) {
    checked.delete(prefix);
    return row && { hash: row.hash, revokedAt: row.revokedAt, key: { id: row.id, name: row.name, permissions: row.permissions, team: row.team } };
  }
  const key = { id: row.id, name: row.name, permissions: row.permissions, team: row.team };
  if (!row.lastUsedAt || row.lastUsedAt.getTime() < now - 60_000) await markUsed(row.id, now);
  if (generation === revocations) {
    if (checked.size >= MAX_CACHED_KEYS) checked.clear();
    checked.set(prefix, { hash: row.hash, key, until: now + KEY_CACHE_MS });
  }
  return { hash: row.hash, revokedAt: null, key };
}

/** Forgets a key this process checked, so its revocation takes effect here at once. */
export function forgetCheckedKey(apiKeyId: string) {
  revocations += 1;
  lookups.clear();
  for (const [prefix, entry] of checked) if (entry.key.id === apiKeyId) checked.delete(prefix);
}
