"use server";

import { z } from "zod";
import { defineAction } from "@/lib/actions/define-action";
import { setCurrentTeam } from "@/lib/auth/context";
import { db } from "@/lib/db";
import { signUp, signUpSchema } from "@/lib/teams/accounts";
import { consumeInvite } from "@/lib/teams/invites";

export const signUpAction = defineAction("public", signUpSchema, async (input, { ip }) => {
  const { teamId } = await signUp(input, ip);
  await setCurrentTeam(teamId);
  return { teamId };
});

export const acceptInviteAction = defineAction(
  "user",
  z.object({ token: z.string().min(1).max(200) }),
  async ({ token }, { user, ip }) => {
    const invite = await db.$transaction((tx) => consumeInvite(tx, token, user, ip));
    await setCurrentTeam(invite.team.id);
    return { teamId: invite.team.id };
  },
);
