import "server-only";
import { db } from "@/lib/db";

export function listNotifications(teamId: string, take = 100) {
  return db.notification.findMany({
    where: { teamId },
    orderBy: { createdAt: "desc" },
    take,
    select: { id: true, kind: true, message: true, createdAt: true, emailedAt: true, endpointId: true },
  });
}

/** Notifications newer than the last time this member opened the list. */
export async function unreadCount(teamId: string, userId: string) {
  const membership = await db.membership.findUnique({
    where: { teamId_userId: { teamId, userId } },
    select: { notificationsSeenAt: true },
  });
  return db.notification.count({
    where: { teamId, ...(membership?.notificationsSeenAt ? { createdAt: { gt: membership.notificationsSeenAt } } : {}) },
  });
}

export async function markNotificationsSeen(teamId: string, userId: string) {
  await db.membership.updateMany({ where: { teamId, userId }, data: { notificationsSeenAt: new Date() } });
}
