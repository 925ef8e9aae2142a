import { Card, EmptyState, formatDateTime, PageHeader, DataTable } from "@/components/ui";
import { NotAllowed } from "@/components/not-allowed";
import { pageContext } from "@/lib/auth/context";
import { apiKeyPermissionLabels, type ApiKeyPermission } from "@/lib/api-keys/permissions";
import { listApiKeys } from "@/lib/api-keys/queries";
import { CreateApiKeyForm, RevokeApiKeyButton } from "./api-key-controls";
import { SendAlertsCard } from "./send-alerts-card";

export const metadata = { title: "API keys" };

export default async function ApiKeysPage() {
  const context = await pageContext("api-keys:manage");
  if (!context.allowed) return <NotAllowed title="API keys" message="Only owners and admins manage API keys." />;
  const keys = await listApiKeys(context.team.id);
  return (
    <>
      <PageHeader title="API keys" description="Keys let your monitors send alerts with POST /api/v1/alerts and Authorization: Bearer <key>, and mon1tor listen relay signed alerts to your machine." />
      <div className="space-y-6">
        <Card title="Create a key">
          <CreateApiKeyForm />
        </Card>
        <Card title="Keys">
          <DataTable
            label="API keys"
            columns={["Name", "Key", "Permissions", "Created", "Last used", { hidden: "Actions" }]}
            empty={
              <EmptyState title="No API keys yet">Create one above; it is shown once.</EmptyState>
            }
          >
              {keys.map((key) => (
                <tr key={key.id}>
                  <td className="min-w-48 py-2 wrap-anywhere">{key.name}</td>
                  <td className="font-mono text-xs">mk_{key.prefix}_…</td>
                  <td>{key.permissions.map((permission) => apiKeyPermissionLabels[permission as ApiKeyPermission] ?? permission).join(", ")}</td>
                  <td>{formatDateTime(key.createdAt)}</td>
                  <td>{key.lastUsedAt ? formatDateTime(key.lastUsedAt) : "never"}</td>
                  <td className="text-right">{key.revokedAt ? `Revoked ${formatDateTime(key.revokedAt)}` : <RevokeApiKeyButton apiKeyId={key.id} name={key.name} />}</td>
                </tr>
              ))}
          </DataTable>
        </Card>
        <SendAlertsCard />
      </div>
    </>
  );
}
