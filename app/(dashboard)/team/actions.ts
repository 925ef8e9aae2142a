"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { defineAction } from "@/lib/actions/define-action";
import { audit } from "@/lib/audit";
import { canAssignRole, roles } from "@/lib/auth/permissions";
import { db } from "@/lib/db";
import { AppError, notFound } from "@/lib/errors";
import type { Role } from "@/lib/generated/prisma/enums";
import { createInvite } from "@/lib/teams/invites";
import { changeRole, removeMember } from "@/lib/teams/members";
import { applyTeamCaps } from "@/lib/webhooks/ownership";

const role = z.enum(roles as [Role, ...Role[]], { error: "Choose a role." });
const id = z.string().min(1).max(64);

export const createInviteAction = defineAction("members:manage", z.object({ role }), async (input, context) => {
  if (!canAssignRole(context.role, input.role)) throw new AppError("forbidden", "Only an owner can invite another owner.");
  const { token, invite } = await db.$transaction(async (tx) => {
    const created = await createInvite(tx, context.team.id, input.role, context.user.id);
    await audit(tx, context, "member.invite", { type: "invite", id: created.invite.id }, { role: input.role });
    return created;
  });
  revalidatePath("/team");
  return { token, expiresAt: invite.expiresAt.toISOString() };
});

export const revokeInviteAction = defineAction("members:manage", z.object({ inviteId: id }), async ({ inviteId }, context) => {
  const deleted = await db.invite.deleteMany({ where: { id: inviteId, teamId: context.team.id, usedAt: null } });
  if (deleted.count === 0) throw notFound("That invite does not exist or was already used.");
  await audit(db, context, "invite.revoke", { type: "invite", id: inviteId });
  revalidatePath("/team");
  return null;
});

export const changeRoleAction = defineAction("members:manage", z.object({ membershipId: id, role }), async (input, context) => {
  await changeRole(context, input.membershipId, input.role);
  revalidatePath("/team");
  return null;
});

export const removeMemberAction = defineAction("members:manage", z.object({ membershipId: id }), async (input, context) => {
  await removeMember(context, input.membershipId);
  revalidatePath("/team");
  return null;
});

// Checkboxes send "on" or nothing; an empty cap means none.
const teamSettingsSchema = z.object({
  requireOwnershipConfirmation: z.literal("on").optional().transform((value) => value === "on"),
  endpointRateLimitPerMinute: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? Number(value) : null))
    .pipe(z.number({ error: "Enter a whole number of deliveries per minute, or leave it empty." }).int("Enter a whole number.").min(1, "Use at least 1.").max(1_000_000, "Use at most 1,000,000.").nullable()),
});

export const updateTeamSettingsAction = defineAction("team:settings", teamSettingsSchema, async (input, context) => {
  await db.$transaction(async (tx) => {
    await tx.team.update({ where: { id: context.team.id }, data: input });
    await applyTeamCaps(tx, context.team.id, input.endpointRateLimitPerMinute);
    await audit(tx, context, "team.settings", { type: "team", id: context.team.id }, input);
  });
  revalidatePath("/team");
  return null;
});
