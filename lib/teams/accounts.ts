import { z } from "zod";
import { hashPassword, MIN_PASSWORD_LENGTH } from "@/lib/auth/password";
import { audit } from "@/lib/audit";
import { db, type Tx } from "@/lib/db";
import { env } from "@/lib/env";
import { AppError, isUniqueViolation } from "@/lib/errors";
import { oneLine } from "@/lib/text";
import { consumeInvite } from "@/lib/teams/invites";

export const teamNameSchema = oneLine(z.string().trim().min(1, "Enter a team name.").max(80, "Use at most 80 characters."));

export const signUpSchema = z.object({
  name: oneLine(z.string().trim().min(1, "Enter your name.").max(100, "Use at most 100 characters.")),
  email: z.string().trim().toLowerCase().email("Enter a valid email address.").max(254),
  password: z
    .string()
    .min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`)
    .max(1024, "Use at most 1024 characters."),
  teamName: oneLine(z.string().trim().max(80, "Use at most 80 characters.").optional()),
  invite: z.string().max(200).optional(),
});

export type SignUpInput = z.infer<typeof signUpSchema>;

/** A new install: nobody has signed up yet (the first account owns a new team, even invite-only). */
export const isFirstRun = async () => (await db.user.count({ take: 1 })) === 0;

export const signupOpen = async () => env().MON1TOR_SIGNUP === "open" || (await isFirstRun());

/** Creates the account and either a new team (as owner) or the invited membership. */
export async function signUp(input: SignUpInput, ip: string | null) {
  if (!input.invite && !(await signupOpen())) {
    throw new AppError("forbidden", "Sign-up on this mon1tor is by invitation only. Ask a team owner for an invite link.");
  }
  const teamName = input.invite ? undefined : teamNameSchema.safeParse(input.teamName ?? "");
  if (teamName && !teamName.success) {
    throw new AppError("validation", "Enter a team name.", { teamName: ["Enter a team name."] });
  }
  const passwordHash = await hashPassword(input.password);
  try {
    return await db.$transaction(async (tx) => {
      const user = await tx.user.create({ data: { email: input.email, name: input.name, passwordHash } });
      if (input.invite) {
        const invite = await consumeInvite(tx, input.invite, user, ip);
        return { userId: user.id, teamId: invite.team.id };
      }
      const team = await createTeamWithOwner(tx, teamName!.data!, user, ip);
      return { userId: user.id, teamId: team.id };
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError("conflict", "An account with this email already exists. Sign in instead.", {
        email: ["An account with this email already exists. Sign in instead."],
      });
    }
    throw error;
  }
}

/** A new team with `user` as its owner, audited: the one way teams are made (sign-up and "New team"). */
export async function createTeamWithOwner(tx: Tx, name: string, user: { id: string; email: string }, ip: string | null) {
  const team = await tx.team.create({ data: { name } });
  await tx.membership.create({ data: { teamId: team.id, userId: user.id, role: "owner" } });
  await audit(tx, { team, user, ip }, "team.create", { type: "team", id: team.id });
  return team;
}
