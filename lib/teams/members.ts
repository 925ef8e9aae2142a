import type { TeamContext } from "@/lib/auth/context";
import { canAssignRole } from "@/lib/auth/permissions";
import { audit } from "@/lib/audit";
import { db, type Tx } from "@/lib/db";
import { AppError, notFound } from "@/lib/errors";
import type { Role } from "@/lib/generated/prisma/enums";

/** Locks the team row so two owners cannot demote each other at the same moment. */
async function lockTeam(tx: Tx, teamId: string) {
  await tx.$queryRaw`SELECT id FROM "Team" WHERE id = ${teamId} FOR UPDATE`;
}

async function targetMembership(tx: Tx, context: TeamContext, membershipId: string) {
  const membership = await tx.membership.findFirst({
    where: { id: membershipId, teamId: context.team.id },
    include: { user: { select: { email: true } } },
  });
  if (!membership) throw notFound("That member is not in this team.");
  if (!canAssignRole(context.role, membership.role)) {
    throw new AppError("forbidden", "Only an owner can change or remove another owner.");
  }
  return membership;
}

async function assertNotLastOwner(tx: Tx, teamId: string, what: string) {
  const owners = await tx.membership.count({ where: { teamId, role: "owner" } });
  if (owners <= 1) {
    throw new AppError("conflict", `The team's last owner cannot be ${what}. Make someone else an owner first.`);
  }
}

export async function changeRole(context: TeamContext, membershipId: string, role: Role) {
  if (!canAssignRole(context.role, role)) throw new AppError("forbidden", "Only an owner can make someone an owner.");
  await db.$transaction(async (tx) => {
    await lockTeam(tx, context.team.id);
    const membership = await targetMembership(tx, context, membershipId);
    if (membership.role === role) return;
    if (membership.role === "owner") await assertNotLastOwner(tx, context.team.id, "demoted");
    await tx.membership.update({ where: { id: membership.id }, data: { role } });
    await audit(tx, context, "member.role_change", { type: "member", id: membership.userId }, {
      email: membership.user.email,
      from: membership.role,
      to: role,
    });
  });
}

export async function removeMember(context: TeamContext, membershipId: string) {
  await db.$transaction(async (tx) => {
    await lockTeam(tx, context.team.id);
    const membership = await targetMembership(tx, context, membershipId);
    if (membership.role === "owner") await assertNotLastOwner(tx, context.team.id, "removed");
    await tx.membership.delete({ where: { id: membership.id } });
    await audit(tx, context, "member.remove", { type: "member", id: membership.userId }, { email: membership.user.email });
  });
}
