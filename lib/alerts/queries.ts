import "server-only";
import { db } from "@/lib/db";
import { notFound } from "@/lib/errors";

export function listAlerts(teamId: string) {
  return db.alert.findMany({
    where: { teamId },
    orderBy: { createdAt: "desc" },
    take: 50,
    include: {
      events: {
        select: {
          type: true,
          deliveries: { select: { id: true, status: true, endpointId: true, endpoint: { select: { url: true } } } },
        },
      },
    },
  });
}

export async function getAlert(teamId: string, alertId: string) {
  const alert = await db.alert.findFirst({
    where: { id: alertId, teamId },
    include: {
      events: {
        orderBy: { createdAt: "asc" },
        select: {
          id: true,
          type: true,
          createdAt: true,
          deliveries: {
            select: { id: true, status: true, attempts: true, lastStatusCode: true, lastError: true, nextAttemptAt: true, endpointId: true, endpoint: { select: { url: true } } },
          },
        },
      },
    },
  });
  if (!alert) throw notFound("That alert does not exist.");
  return alert;
}
