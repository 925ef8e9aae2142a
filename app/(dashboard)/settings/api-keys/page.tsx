import { Card, EmptyState, formatDateTime, PageHeader, TableHead } from "@/components/ui";
import { NotAllowed } from "@/components/not-allowed";
import { pageContext } from "@/lib/auth/context";
import { db } from "@/lib/db";
import { CreateApiKeyForm, RevokeApiKeyButton } from "./api-key-controls";

export const metadata = { title: "API keys" };

export default async function ApiKeysPage() {
  const context = await pageContext("api-keys:manage");
  if (!context.allowed) return <NotAllowed title="API keys" message="Only owners and admins manage API keys." />;
  const keys = await db.apiKey.findMany({
    where: { teamId: context.team.id },
    orderBy: { createdAt: "desc" },
    select: { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
  });
  return (
    <>
      <PageHeader title="API keys" description="Keys let your monitors send alerts with POST /api/v1/alerts and Authorization: Bearer <key>." />
      <div className="space-y-6">
        <Card title="Create a key">
          <CreateApiKeyForm />
        </Card>
        <Card title="Keys">
          {keys.length === 0 ? (
            <EmptyState title="No API keys yet">Create one above; it is shown once.</EmptyState>
          ) : (
            <table className="w-full text-left text-sm" aria-label="API keys">
              <TableHead columns={["Name", "Key", "Created", "Last used", { hidden: "Actions" }]} />
              <tbody className="divide-y divide-slate-100">
                {keys.map((key) => (
                  <tr key={key.id}>
                    <td className="py-2">{key.name}</td>
                    <td className="font-mono text-xs">mk_{key.prefix}_…</td>
                    <td>{formatDateTime(key.createdAt)}</td>
                    <td>{key.lastUsedAt ? formatDateTime(key.lastUsedAt) : "never"}</td>
                    <td className="text-right">{key.revokedAt ? `Revoked ${formatDateTime(key.revokedAt)}` : <RevokeApiKeyButton apiKeyId={key.id} name={key.name} />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      </div>
    </>
  );
}
