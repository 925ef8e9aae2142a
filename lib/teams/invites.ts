import { audit } from "@/lib/audit";
import { db, type Tx } from "@/lib/db";
import type { TeamContext } from "@/lib/auth/context";
import { canAssignRole } from "@/lib/auth/permissions";
import { AppError, notFound } from "@/lib/errors";
import { randomToken, sha256Hex } from "@/lib/crypto/tokens";
import type { Role } from "@/lib/generated/prisma/enums";

export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** Creates a single-use invite and returns the token for the link; only its hash is stored. */
export async function createInvite(tx: Tx, teamId: string, role: Role, createdById: string) {
  const token = randomToken(24);
  const invite = await tx.invite.create({
    data: { teamId, role, createdById, tokenHash: sha256Hex(token), expiresAt: new Date(Date.now() + INVITE_TTL_MS) },
  });
  return { invite, token };
}

export type InviteView = { id: string; role: Role; team: { id: string; name: string } };

/** Looks up a usable invite; expired or used invites get their own message. */
export async function findUsableInvite(token: string, client: Tx | typeof db = db): Promise<InviteView> {
  const invite = await client.invite.findUnique({
    where: { tokenHash: sha256Hex(token) },
    include: { team: { select: { id: true, name: true } } },
  });
  if (!invite) throw new AppError("not_found", "This invite link is not valid. Check that you copied all of it.");
  if (invite.usedAt) throw new AppError("conflict", "This invite has already been used. Ask for a new one.");
  if (invite.expiresAt.getTime() <= Date.now()) {
    throw new AppError("conflict", "This invite has expired. Ask a team owner or admin for a new one.");
  }
  return { id: invite.id, role: invite.role, team: invite.team };
}

/** Marks the invite used and adds the membership, atomically; a second use loses the race. */
export async function consumeInvite(tx: Tx, token: string, user: { id: string; email: string }, ip: string | null) {
  const userId = user.id;
  const invite = await findUsableInvite(token, tx);
  const claimed = await tx.invite.updateMany({
    where: { id: invite.id, usedAt: null },
    data: { usedAt: new Date(), usedById: userId },
  });
  if (claimed.count !== 1) throw new AppError("conflict", "This invite has already been used. Ask for a new one.");
  const existing = await tx.membership.findUnique({ where: { teamId_userId: { teamId: invite.team.id, userId } } });
  if (existing) throw new AppError("conflict", `You are already a member of ${invite.team.name}.`);
  await tx.membership.create({ data: { teamId: invite.team.id, userId, role: invite.role } });
  await audit(tx, { team: invite.team, user, ip }, "member.join", { type: "member", id: userId }, { role: invite.role });
  return invite;
}

/** An invite link for `role`, made by a member who may hand out that role; audited. */
export async function inviteMember(context: TeamContext, role: Role) {
  if (!canAssignRole(context.role, role)) throw new AppError("forbidden", "Only an owner can invite another owner.");
  return db.$transaction(async (tx) => {
    const created = await createInvite(tx, context.team.id, role, context.user.id);
    await audit(tx, context, "member.invite", { type: "invite", id: created.invite.id }, { role });
    return created;
  });
}

export async function revokeInvite(context: TeamContext, inviteId: string) {
  const deleted = await db.invite.deleteMany({ where: { id: inviteId, teamId: context.team.id, usedAt: null } });
  if (deleted.count === 0) throw notFound("That invite does not exist or was already used.");
  await audit(db, context, "invite.revoke", { type: "invite", id: inviteId });
}
