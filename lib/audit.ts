import type { Db, Tx } from "@/lib/db";
import type { Prisma } from "@/lib/generated/prisma/client";

export const auditActions = [
  "team.create",
  "team.settings",
  "member.invite",
  "member.join",
  "member.role_change",
  "member.remove",
  "invite.revoke",
  "endpoint.create",
  "endpoint.update",
  "endpoint.validate",
  "endpoint.pause",
  "endpoint.resume",
  "endpoint.delete",
  "endpoint.secret_reveal",
  "endpoint.secret_roll",
  "endpoint.secret_switch",
  "endpoint.filter",
  "endpoint.headers",
  "endpoint.test_send",
  "delivery.redeliver",
  "api_key.create",
  "api_key.revoke",
  "relay.connect",
] as const;

export type AuditAction = (typeof auditActions)[number];

/** Records who did what to which target. Never pass a secret in metadata. */
export async function audit(
  client: Db | Tx,
  context: { team: { id: string }; user: { id: string | null; email: string }; ip: string | null },
  action: AuditAction,
  target: { type: string; id?: string | null },
  metadata?: Prisma.InputJsonObject,
) {
  await client.auditLog.create({
    data: {
      teamId: context.team.id,
      actorId: context.user.id,
      actorLabel: context.user.email,
      action,
      targetType: target.type,
      targetId: target.id ?? null,
      ip: context.ip,
      metadata,
    },
  });
}
