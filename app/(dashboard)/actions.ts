"use server";

import { z } from "zod";
import { defineAction } from "@/lib/actions/define-action";
import { setCurrentTeam } from "@/lib/auth/context";
import { db } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { createTeamWithOwner, teamNameSchema } from "@/lib/teams/accounts";
import { findMembership } from "@/lib/teams/queries";

export const switchTeamAction = defineAction("user", z.object({ teamId: z.string().min(1).max(64) }), async ({ teamId }, { user }) => {
  const membership = await findMembership(teamId, user.id);
  if (!membership) throw notFound("That team does not exist or you are not a member.");
  await setCurrentTeam(teamId);
  return null;
});

export const createTeamAction = defineAction("user", z.object({ name: teamNameSchema }), async ({ name }, { user, ip }) => {
  const team = await db.$transaction((tx) => createTeamWithOwner(tx, name, user, ip));
  await setCurrentTeam(team.id);
  return { teamId: team.id };
});
