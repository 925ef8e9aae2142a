// Notification emails, when MON1TOR_SMTP_URL is set. Notifications are written in the app
// first (lib/webhooks/delivery/failure.ts); housekeeping (worker and cron) mails the ones not yet
// mailed, to the members whose role may see notifications (lib/auth/permissions.ts). Claiming sets `emailedAt` first, so two workers
// never mail the same notification; a send that fails is released for the next round.
import nodemailer from "nodemailer";
import type pg from "pg";
import { rolesWith } from "@/lib/auth/permissions";
import { env, publicUrl } from "@/lib/env";
import { DB_NOW } from "@/lib/db";

/** Notifications older than this are never mailed: turning SMTP on later must not send a flood. */
const MAIL_WINDOW_HOURS = 24;
const BATCH = 20;

export const emailConfigured = () => Boolean(env().MON1TOR_SMTP_URL);

/** The SMTP host, without credentials, for the Team page. */
export function smtpHost(): string | null {
  const url = env().MON1TOR_SMTP_URL;
  return url ? new URL(url).host : null;
}

let transport: nodemailer.Transporter | undefined;
const transporter = () => (transport ??= nodemailer.createTransport(env().MON1TOR_SMTP_URL!));

type Pending = { id: string; kind: string; message: string; endpointId: string | null; teamName: string; recipients: string[] };

export async function sendPendingNotificationEmails(pool: pg.Pool): Promise<number> {
  if (!emailConfigured()) return 0;
  const { rows } = await pool.query<Pending>(
    `WITH picked AS (
       SELECT id FROM "Notification"
       WHERE "emailedAt" IS NULL AND "createdAt" > ${DB_NOW} - make_interval(hours => $1)
       ORDER BY "createdAt" LIMIT $2 FOR UPDATE SKIP LOCKED
     )
     UPDATE "Notification" n SET "emailedAt" = ${DB_NOW}
     FROM picked, "Team" t
     WHERE n.id = picked.id AND t.id = n."teamId"
     RETURNING n.id, n.kind, n.message, n."endpointId", t.name AS "teamName",
       ARRAY(SELECT u.email FROM "Membership" m JOIN "User" u ON u.id = m."userId"
             WHERE m."teamId" = n."teamId" AND m.role::text = ANY($3::text[]) ORDER BY u.email) AS recipients`,
    [MAIL_WINDOW_HOURS, BATCH, rolesWith("notifications:view")],
  );
  let sent = 0;
  const base = publicUrl();
  for (const notification of rows) {
    if (notification.recipients.length === 0) continue;
    const failures = notification.kind === "endpoint_failing" || notification.kind === "endpoint_disabled";
    const link = !notification.endpointId
      ? `Notifications: ${base}/notifications`
      : failures
        ? `Failing deliveries: ${base}/settings/webhooks/${notification.endpointId}/deliveries?status=failing`
        : `The endpoint: ${base}/settings/webhooks/${notification.endpointId}`;
    try {
      await transporter().sendMail({
        from: env().MON1TOR_SMTP_FROM,
        to: notification.recipients,
        subject: `[mon1tor] ${notification.teamName}: webhook endpoint needs attention`,
        text: `${notification.message}\n\n${link}\n`,
      });
      sent += 1;
    } catch (error) {
      console.error(`[mon1tor] notification email failed: ${error instanceof Error ? error.message : String(error)}`);
      await pool.query(`UPDATE "Notification" SET "emailedAt" = NULL WHERE id = $1`, [notification.id]);
    }
  }
  return sent;
}
