// TLS for https endpoints: which CAs we trust, and the connector that notes each peer
// certificate's expiry as connections are made. What is done with those dates (stored per
// endpoint, warnings to the team) is lib/webhooks/endpoints/certificates.ts.
//
// Verification is never turned off. A private CA (self-hosted receivers, tests) is trusted
// by naming its PEM file in MON1TOR_EXTRA_CA_CERTS: it is added to Node's root store for
// outbound webhook connections only.
import fs from "node:fs";
import tls from "node:tls";
import { buildConnector } from "undici";


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
