import { redirect } from "next/navigation";
import { SignOutButton, TeamSwitcher } from "@/components/account-menu";
import { Nav, type NavItem } from "@/components/nav";
import { currentTeam, currentUser } from "@/lib/auth/context";
import { can } from "@/lib/auth/permissions";
import { orUnavailable } from "@/lib/page";
import { unreadCount } from "@/lib/notifications/queries";
import { teamsOf } from "@/lib/teams/queries";

export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  const user = await orUnavailable(currentUser());
  if (!user) redirect("/signin");
  const context = await orUnavailable(currentTeam(user));
  const teams = await orUnavailable(teamsOf(user.user.id));
  const notified = context !== null && can(context.role, "notifications:view");
  const unread = notified ? await orUnavailable(unreadCount(context.team.id, user.user.id)) : 0;
  const items: NavItem[] = context
    ? [
        { href: "/alerts", label: "Alerts" },
        // Webhooks, API keys, Team and Audit log: the side navigation of app/(dashboard)/settings/layout.tsx.
        // Straight to its first page: through /settings (a redirect), a click on another settings
        // page made while that redirect was still landing was undone by it.
        { href: "/settings/webhooks", section: "/settings", label: "Settings" },
        ...(notified ? [{ href: "/notifications", label: unread > 0 ? `Notifications (${unread} new)` : "Notifications" }] : []),
      ]
    : [];
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-4 px-4 py-3">
          <div className="flex items-center gap-6">
            <a href="/" className="text-lg font-bold tracking-tight text-brand-700">
              mon1tor
            </a>
            <Nav items={items} />
          </div>
          <div className="flex min-w-0 max-w-full flex-wrap items-center gap-4">
            {context ? <TeamSwitcher teams={teams} currentId={context.team.id} /> : null}
            <span className="min-w-0 text-sm text-slate-600 wrap-anywhere">
              {user.user.email}
              {context ? ` · ${context.role}` : ""}
            </span>
            <SignOutButton />
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-8">{children}</main>
    </div>
  );
}
