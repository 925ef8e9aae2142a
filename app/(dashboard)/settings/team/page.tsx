import { Card, EmptyState, formatDateTime, PageHeader, DataTable } from "@/components/ui";
import { pageContext } from "@/lib/auth/context";
import { can, canAssignRole, roles } from "@/lib/auth/permissions";
import { listMembers, listOpenInvites, teamSettings } from "@/lib/teams/queries";
import { smtpHost } from "@/lib/notifications/email";
import { InviteForm, MemberControls, RevokeInviteButton, TeamSettingsForm } from "./team-controls";

export const metadata = { title: "Team" };

export default async function TeamPage() {
  const context = await pageContext();
  const manage = can(context.role, "members:manage");
  const [settings, members, invites] = await Promise.all([
    teamSettings(context.team.id),
    listMembers(context.team.id),
    manage ? listOpenInvites(context.team.id) : Promise.resolve([]),
  ]);
  const assignable = roles.filter((role) => canAssignRole(context.role, role));

  return (
    <>
      <PageHeader title={context.team.name} description="Members of this team and their roles." />
      <div className="space-y-6">
        <Card title="Notifications">
          <p className="text-sm text-slate-700" data-testid="email-notifications">
            {smtpHost()
              ? `Owners and admins are emailed (through ${smtpHost()}) when an endpoint keeps failing or is disabled, and see it under Notifications.`
              : "Email notifications are off: no SMTP server is configured (set MON1TOR_SMTP_URL). Owners and admins still see failing and disabled endpoints under Notifications and in a banner."}
          </p>
        </Card>
        {can(context.role, "team:settings") ? (
          <Card title="Webhook settings">
            <TeamSettingsForm {...settings} />
          </Card>
        ) : null}
        <Card title="Members">
          <DataTable label="Members" columns={["Name", "Email", "Role", "Joined", ...(manage ? [{ hidden: "Actions" }] : [])]} empty={null}>
            {members.map((member) => (
              <tr key={member.id}>
                <td className="min-w-48 py-2 wrap-anywhere">{member.user.name}</td>
                <td className="min-w-48 wrap-anywhere">{member.user.email}</td>
                <td>{member.role}</td>
                <td>{formatDateTime(member.createdAt)}</td>
                {manage ? (
                  <td className="py-2 text-right">
                    {canAssignRole(context.role, member.role) ? (
                      <MemberControls
                        membershipId={member.id}
                        email={member.user.email}
                        role={member.role}
                        roles={assignable}
                        self={member.userId === context.user.id}
                      />
                    ) : null}
                  </td>
                ) : null}
              </tr>
            ))}
          </DataTable>
        </Card>
        {manage ? (
          <Card title="Invite people">
            <InviteForm roles={assignable} />
            <h3 className="mt-6 mb-2 text-sm font-semibold">Open invites</h3>
            {invites.length === 0 ? (
              <EmptyState title="No open invites">Links you create appear here until they are used or expire.</EmptyState>
            ) : (
              <ul className="divide-y divide-slate-100 text-sm">
                {invites.map((invite) => (
                  <li key={invite.id} className="flex items-center justify-between py-2">
                    <span>
                      Invite as <strong>{invite.role}</strong>, expires {formatDateTime(invite.expiresAt)}
                    </span>
                    <RevokeInviteButton inviteId={invite.id} />
                  </li>
                ))}
              </ul>
            )}
          </Card>
        ) : null}
      </div>
    </>
  );
}
