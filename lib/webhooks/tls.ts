// TLS certificates of https endpoints: which CAs we trust, what expiry each endpoint's
// certificate has, and the warnings when it is under 14 days away or has passed.
//
// Verification is never turned off. A private CA (self-hosted receivers, tests) is trusted
// by naming its PEM file in MON1TOR_EXTRA_CA_CERTS: it is added to Node's root store for
// outbound webhook connections only.
import fs from "node:fs";
import tls from "node:tls";
import type pg from "pg";
import { buildConnector } from "undici";
import { insertNotifications, type Notice } from "@/lib/notifications/write";
import { dbNow } from "@/lib/db";

export const CERT_WARNING_DAYS = 14;

/** What a request learned about its endpoint's certificate. */
export type CertificateSeen = { expiresAt: Date | null; expired: boolean };

/** The trust store for outbound connections: Node's roots plus an extra PEM bundle, if named. */
export function trustedCas(extraCaFile: string | undefined): string[] | undefined {
  if (!extraCaFile) return undefined;
  let pem: string;
  try {
    pem = fs.readFileSync(extraCaFile, "utf8");
  } catch (error) {
    throw new Error(`MON1TOR_EXTRA_CA_CERTS: cannot read ${extraCaFile} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`MON1TOR_EXTRA_CA_CERTS: ${extraCaFile} holds no PEM certificate`);
  return [...tls.rootCertificates, pem];
}

// The notAfter of the certificate last presented by each https origin (host:port).
// Connections are kept alive, so this is read once per connection, not per request.
const seen = new Map<string, Date>();
const MAX_ORIGINS = 10_000;

const originKey = (hostname: string, port: string | number) => `${hostname.toLowerCase()}:${port || 443}`;

/** Wraps undici's connector so every TLS connection records its peer certificate's expiry. */
export function recordingConnector(options: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector(options);
  return (target, callback) =>
    connect(target, (...args) => {
      const socket = args[1];
      if (socket && socket instanceof tls.TLSSocket) {
        const validTo = socket.getPeerCertificate()?.valid_to;
        const date = validTo ? new Date(validTo) : null;
        if (date && !Number.isNaN(date.getTime())) {
          if (seen.size >= MAX_ORIGINS) seen.clear();
          seen.set(originKey(target.hostname, target.port), date);
        }
      }
      callback(...args);
    });
}

/** What is known about `url`'s certificate after a request to it; null for http. */
export function certificateFor(url: URL, errorCode: string | null): CertificateSeen | null {
  if (url.protocol !== "https:") return null;
  if (errorCode === "CERT_HAS_EXPIRED") return { expiresAt: null, expired: true };
  const expiresAt = seen.get(originKey(url.hostname, url.port));
  return expiresAt ? { expiresAt, expired: expiresAt.getTime() <= Date.now() } : null;
}

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
