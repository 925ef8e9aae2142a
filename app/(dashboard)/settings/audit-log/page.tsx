import { z } from "zod";
import { buttonClass, DataTable } from "@/components/ui";
import { Card, EmptyState, formatDateTime, PageHeader } from "@/components/ui";
import { auditActions } from "@/lib/audit";
import { NotAllowed } from "@/components/not-allowed";
import { pageContext } from "@/lib/auth/context";
import { listAuditEntries } from "@/lib/teams/queries";

export const metadata = { title: "Audit log" };

const filterSchema = z.object({ action: z.enum(auditActions).optional().catch(undefined) });

export default async function AuditLogPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const context = await pageContext("audit:view");
  if (!context.allowed) return <NotAllowed title="Audit log" message="Only owners and admins can see the audit log." />;
  const { action } = filterSchema.parse(await searchParams);
  const rows = await listAuditEntries(context.team.id, action);
  return (
    <>
      <PageHeader title="Audit log" description="Every change to this team: who, what, when and from where. The latest 200 entries." />
      <Card>
        <form method="get" className="mb-4 flex items-end gap-3">
          <div>
            <label htmlFor="audit-action" className="block text-sm font-medium text-slate-700">
              Action
            </label>
            <select id="audit-action" name="action" defaultValue={action ?? ""} className="mt-1 rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm">
              <option value="">All actions</option>
              {auditActions.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className={buttonClass("secondary")}>
            Filter
          </button>
        </form>
        <DataTable
          label="Audit log"
          columns={["Time", "Actor", "Action", "Target", "IP"]}
          empty={
            <EmptyState title={action ? `No ${action} entries` : "Nothing recorded yet"} />
          }
        >
            {rows.map((row) => (
              <tr key={row.id}>
                <td className="py-2 whitespace-nowrap">{formatDateTime(row.createdAt)}</td>
                <td>{row.actorLabel}</td>
                <td className="font-mono text-xs">{row.action}</td>
                <td className="break-all font-mono text-xs">
                  {row.targetType}
                  {row.targetId ? ` ${row.targetId}` : ""}
                </td>
                <td className="font-mono text-xs">{row.ip ?? "—"}</td>
              </tr>
            ))}
        </DataTable>
      </Card>
    </>
  );
}
