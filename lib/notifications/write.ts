// Writing notifications for a team's owners and admins, on the caller's connection or
// transaction. They show in the app at once; housekeeping mails them when SMTP is set
// (lib/notifications/email.ts).
import type pg from "pg";
import type { NotificationKind } from "@/lib/generated/prisma/enums";
import { storableText } from "@/lib/text";
import { dbNow } from "@/lib/db";

export type Notice = { teamId: string; endpointId: string; kind: NotificationKind; message: string };

/** `now` null means the database's clock. */
export async function insertNotifications(client: pg.Pool | pg.ClientBase, notices: Notice[], now: Date | null = null) {
  if (notices.length === 0) return;
  await client.query(
    `INSERT INTO "Notification" (id, "teamId", "endpointId", kind, message, "createdAt")
     SELECT 'ntf_' || md5(random()::text || clock_timestamp()::text || u.endpoint), u.team, u.endpoint, u.kind::"NotificationKind", u.message,
            ${dbNow(1)}
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(team, endpoint, kind, message)`,
    [
      now?.toISOString() ?? null,
      notices.map((n) => n.teamId),
      notices.map((n) => n.endpointId),
      notices.map((n) => n.kind),
      notices.map((n) => storableText(n.message)),
    ],
  );
}
