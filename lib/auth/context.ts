import "server-only";
import { getServerSession } from "next-auth";
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { authOptions } from "@/lib/auth/options";
import { clientIpFrom } from "@/lib/auth/client-ip";
import { can, type Permission } from "@/lib/auth/permissions";
import { env } from "@/lib/env";
import { db } from "@/lib/db";
import { AppError } from "@/lib/errors";
import type { Role } from "@/lib/generated/prisma/enums";
import { orUnavailable } from "@/lib/page";

export const TEAM_COOKIE = "mon1tor-team";

export type UserContext = { user: { id: string; name: string; email: string }; ip: string | null };
export type TeamContext = UserContext & { team: { id: string; name: string }; role: Role };

/** The client IP of this request, from a trusted hop only (lib/auth/client-ip.ts); null when unknown. */
export async function requestIp(): Promise<string | null> {
  return clientIpFrom((await headers()).get("x-forwarded-for"), env().MON1TOR_TRUSTED_PROXIES);
}

/** The signed-in user, re-read from the database so a deleted account loses access at once. */
export async function currentUser(): Promise<UserContext | null> {
  const session = await getServerSession(authOptions);
  const id = session?.user?.id;
  // A missing id must stop here: Prisma would drop an undefined filter and match anyone.
  if (typeof id !== "string" || !id) return null;
  const user = await db.user.findUnique({ where: { id }, select: { id: true, name: true, email: true } });
  return user ? { user, ip: await requestIp() } : null;
}

export async function requireUser(): Promise<UserContext> {
  const context = await currentUser();
  if (!context) throw new AppError("unauthorized", "Your session has ended. Sign in again.");
  return context;
}

/** The team the user is working in: the one chosen in the switcher, else their oldest. */
export async function currentTeam(userContext: UserContext): Promise<TeamContext | null> {
  const chosen = (await cookies()).get(TEAM_COOKIE)?.value;
  const memberships = await db.membership.findMany({
    where: { userId: userContext.user.id },
    include: { team: { select: { id: true, name: true } } },
    orderBy: { createdAt: "asc" },
  });
  const membership = memberships.find((m) => m.teamId === chosen) ?? memberships[0];
  return membership ? { ...userContext, team: membership.team, role: membership.role } : null;
}

export async function requireTeam(permission: Permission): Promise<TeamContext> {
  const context = await currentTeam(await requireUser());
  if (!context) throw new AppError("forbidden", "You are not a member of any team yet.");
  if (!can(context.role, permission)) {
    throw new AppError("forbidden", `Your role (${context.role}) does not allow this.`);
  }
  return context;
}

/**
 * For server components: redirect instead of throwing. With a permission, `allowed` says
 * whether the role has it; the page then shows components/not-allowed.tsx instead of data.
 */
export async function pageContext(permission: Permission = "webhooks:view"): Promise<TeamContext & { allowed: boolean }> {
  const user = await orUnavailable(currentUser());
  if (!user) redirect("/signin");
  const context = await orUnavailable(currentTeam(user));
  if (!context) redirect("/teams/new");
  return { ...context, allowed: can(context.role, permission) };
}

export async function setCurrentTeam(teamId: string) {
  (await cookies()).set(TEAM_COOKIE, teamId, { httpOnly: true, sameSite: "lax", path: "/" });
}
