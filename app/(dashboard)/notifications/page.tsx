import type { NotificationKind } from "@/lib/generated/prisma/enums";
import Link from "next/link";
import { Card, EmptyState, formatDateTime, PageHeader, DataTable } from "@/components/ui";
import { NotAllowed } from "@/components/not-allowed";
import { pageContext } from "@/lib/auth/context";
import { listNotifications, markNotificationsSeen } from "@/lib/notifications/queries";

export const metadata = { title: "Notifications" };

const kindLabels: Record<NotificationKind, string> = {
  endpoint_failing: "Endpoint failing",
  endpoint_disabled: "Endpoint disabled",
  certificate_expiring: "Certificate expiring",
  certificate_expired: "Certificate expired",
  revalidation_failed: "Daily validation failed",
};

export default async function NotificationsPage() {
  const context = await pageContext("notifications:view");
  if (!context.allowed) {
    return <NotAllowed title="Notifications" message={`Notifications go to the team's owners and admins. Your role (${context.role}) does not receive them.`} />;
  }
  const notifications = await listNotifications(context.team.id);
  await markNotificationsSeen(context.team.id, context.user.id);
  return (
    <>
      <PageHeader title="Notifications" description="Webhook endpoints that keep failing or were disabled. Owners and admins see these, and get them by email when SMTP is configured." />
      <Card title="Recent notifications">
        <DataTable
          label="Notifications"
          columns={["Time", "Kind", "Message", { hidden: "Link" }]}
          empty={
            <EmptyState title="No notifications">You are told here when an endpoint fails 5, 10 and 15 deliveries in a row, and when one is disabled.</EmptyState>
          }
        >
            {notifications.map((notification) => (
              <tr key={notification.id}>
                <td className="py-2 align-top whitespace-nowrap">{formatDateTime(notification.createdAt)}</td>
                <td className="align-top whitespace-nowrap">{kindLabels[notification.kind]}</td>
                <td className="min-w-48 align-top wrap-anywhere">{notification.message}</td>
                <td className="align-top">
                  {notification.endpointId ? (
                    <Link href={`/settings/webhooks/${notification.endpointId}/deliveries?status=failing`} className="text-brand-700 underline">
                      Failing deliveries
                    </Link>
                  ) : null}
                </td>
              </tr>
            ))}
        </DataTable>
      </Card>
    </>
  );
}
