"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { defineAction } from "@/lib/actions/define-action";
import { roles } from "@/lib/auth/permissions";
import type { Role } from "@/lib/generated/prisma/enums";
import { inviteMember, revokeInvite } from "@/lib/teams/invites";
import { teamSettingsSchema, updateTeamSettings } from "@/lib/teams/settings";
import { changeRole, removeMember } from "@/lib/teams/members";

const role = z.enum(roles as [Role, ...Role[]], { error: "Choose a role." });
const id = z.string().min(1).max(64);

export const createInviteAction = defineAction("members:manage", z.object({ role }), async (input, context) => {
  const { token, invite } = await inviteMember(context, input.role);
  revalidatePath("/settings/team");
  return { token, expiresAt: invite.expiresAt.toISOString() };
});

export const revokeInviteAction = defineAction("members:manage", z.object({ inviteId: id }), async ({ inviteId }, context) => {
  await revokeInvite(context, inviteId);
  revalidatePath("/settings/team");
  return null;
});

export const changeRoleAction = defineAction("members:manage", z.object({ membershipId: id, role }), async (input, context) => {
  await changeRole(context, input.membershipId, input.role);
  revalidatePath("/settings/team");
  return null;
});

export const removeMemberAction = defineAction("members:manage", z.object({ membershipId: id }), async (input, context) => {
  await removeMember(context, input.membershipId);
  revalidatePath("/settings/team");
  return null;
});

export const updateTeamSettingsAction = defineAction("team:settings", teamSettingsSchema, async (input, context) => {
  await updateTeamSettings(context, input);
  revalidatePath("/settings/team");
  return null;
});
