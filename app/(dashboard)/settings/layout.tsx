import { Nav, type NavItem } from "@/components/nav";
import { currentTeam, currentUser } from "@/lib/auth/context";
import { can } from "@/lib/auth/permissions";
import { orUnavailable } from "@/lib/page";

// The team's settings, one place with its own navigation: what the product calls "the Settings page".
export default async function SettingsLayout({ children }: { children: React.ReactNode }) {
  const user = await orUnavailable(currentUser());
  const context = user ? await orUnavailable(currentTeam(user)) : null;
  const items: NavItem[] = context
    ? [
        { href: "/settings/webhooks", label: "Webhooks" },
        ...(can(context.role, "api-keys:manage") ? [{ href: "/settings/api-keys", label: "API keys" }] : []),
        { href: "/settings/team", label: "Team" },
        ...(can(context.role, "audit:view") ? [{ href: "/settings/audit-log", label: "Audit log" }] : []),
      ]
    : [];
  return (
    <div className="flex flex-col gap-6 md:flex-row">
      <aside className="md:w-44 md:shrink-0">
        <h2 className="mb-2 text-xs font-semibold tracking-wide text-slate-500 uppercase">Settings</h2>
        <Nav items={items} label="Settings" vertical />
      </aside>
      <div className="min-w-0 grow">{children}</div>
    </div>
  );
}
