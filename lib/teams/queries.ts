import "server-only";
// What the team pages and the dashboard shell read. Every query carries the team id.
import type { AuditAction } from "@/lib/audit";
import { db } from "@/lib/db";

export function teamSettings(teamId: string) {
  return db.team.findUniqueOrThrow({ where: { id: teamId }, select: { requireOwnershipConfirmation: true, endpointRateLimitPerMinute: true } });
}

export function listMembers(teamId: string) {
  return db.membership.findMany({
    where: { teamId },
    include: { user: { select: { name: true, email: true } } },
    orderBy: { createdAt: "asc" },
  });
}

export function listOpenInvites(teamId: string, now = new Date()) {
  return db.invite.findMany({ where: { teamId, usedAt: null, expiresAt: { gt: now } }, orderBy: { createdAt: "desc" } });
}

/** The teams a user belongs to, for the switcher. */
export function teamsOf(userId: string) {
  return db.team.findMany({ where: { memberships: { some: { userId } } }, select: { id: true, name: true }, orderBy: { name: "asc" } });
}

export function findMembership(teamId: string, userId: string) {
  return db.membership.findUnique({ where: { teamId_userId: { teamId, userId } } });
}

/** The latest 200 audit entries of a team, optionally of one action. */
export function listAuditEntries(teamId: string, action?: AuditAction) {
  return db.auditLog.findMany({ where: { teamId, ...(action ? { action } : {}) }, orderBy: { createdAt: "desc" }, take: 200 });
}
