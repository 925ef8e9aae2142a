// What requests learn of endpoints' TLS certificates (lib/webhooks/delivery/tls.ts), kept on
// each endpoint, and the warnings to its team: once when a certificate is under
// CERT_WARNING_DAYS from expiry, and again when it has expired.
import type pg from "pg";
import { dbNow } from "@/lib/db";
import { insertNotifications, type Notice } from "@/lib/notifications/write";
import type { CertificateSeen } from "@/lib/webhooks/delivery/tls";

export const CERT_WARNING_DAYS = 14;

type Noted = { id: string; teamId: string; url: string; stage: "expiring" | "expired" | null; expiresAt: Date; notify: boolean };

/**
 * Stores what requests saw of endpoints' certificates, and tells owners and admins once per
 * certificate when it is under CERT_WARNING_DAYS from expiry and again when it has expired.
 * An expired certificate whose exact date we never saw (the handshake failed) is stored as
 * "expired no later than now". Unchanged values are rewritten at most hourly.
 */
export async function noteCertificates(client: pg.Pool | pg.ClientBase, certificates: { endpointId: string; certificate: CertificateSeen }[], now: Date | null = null) {
  const latest = new Map(certificates.map((c) => [c.endpointId, c.certificate]));
  if (latest.size === 0) return;
  const ids = [...latest.keys()].sort();
  const at = dbNow(1);
  const { rows } = await client.query<Noted>(
    `WITH u AS (
       SELECT * FROM unnest($2::text[], $3::timestamptz[]) AS u(id, expires)
     ), next AS (
       SELECT e.id, e."tlsCertNoticeKey" AS old_key, e."tlsCertExpiresAt" AS old_expires, e."tlsCertCheckedAt" AS checked,
         CASE WHEN u.expires IS NOT NULL THEN u.expires AT TIME ZONE 'UTC'
              ELSE LEAST(COALESCE(e."tlsCertExpiresAt", ${at}), ${at}) END AS expires_at
       FROM "WebhookEndpoint" e JOIN u ON u.id = e.id
     ), staged AS (
       SELECT n.*,
         CASE WHEN n.expires_at <= ${at} THEN 'expired'
              WHEN n.expires_at < ${at} + make_interval(days => $4) THEN 'expiring' END AS stage
       FROM next n
     ), keyed AS (
       SELECT s.*, CASE WHEN s.stage IS NULL THEN s.old_key ELSE s.stage || ':' || to_char(s.expires_at, 'YYYY-MM-DD"T"HH24:MI:SS') END AS new_key
       FROM staged s
     )
     UPDATE "WebhookEndpoint" e SET "tlsCertExpiresAt" = k.expires_at, "tlsCertCheckedAt" = ${at}, "tlsCertNoticeKey" = k.new_key
     FROM keyed k
     WHERE e.id = k.id AND (k.old_expires IS DISTINCT FROM k.expires_at OR k.old_key IS DISTINCT FROM k.new_key
                            OR k.checked IS NULL OR k.checked < ${at} - interval '1 hour')
     RETURNING e.id, e."teamId", e.url, k.stage, k.expires_at AS "expiresAt", (k.stage IS NOT NULL AND k.old_key IS DISTINCT FROM k.new_key) AS notify`,
    [
      now?.toISOString() ?? null,
      ids,
      ids.map((id) => latest.get(id)!.expiresAt?.toISOString() ?? null),
      CERT_WARNING_DAYS,
    ],
  );
  const notices: Notice[] = rows
    .filter((row) => row.notify)
    .map((row) => ({
      teamId: row.teamId,
      endpointId: row.id,
      kind: row.stage === "expired" ? "certificate_expired" : "certificate_expiring",
      message:
        row.stage === "expired"
          ? `The TLS certificate of webhook endpoint ${row.url} has expired: deliveries to it fail until it is renewed.`
          : `The TLS certificate of webhook endpoint ${row.url} expires on ${row.expiresAt.toISOString().slice(0, 10)}, in under ${CERT_WARNING_DAYS} days: renew it before deliveries start failing.`,
    }));
  await insertNotifications(client, notices, now);
}
