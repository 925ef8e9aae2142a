// Where webhooks may go. Every address a hostname resolves to is checked, and the socket
// connects to exactly the checked address (see guardedLookup), so a DNS answer that
// changes between the check and the connect cannot slip through.
import dns from "node:dns";
import type { LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { env, isProduction } from "@/lib/env";
import { trustedCas } from "@/lib/webhooks/delivery/tls";

export type Resolver = (hostname: string) => Promise<string[]>;

export type DestinationPolicy = {
  allowPrivate: boolean;
  allowedCidrs: string[];
  requireHttps: boolean;
  resolve: Resolver;
  /** The CAs trusted for https endpoints; undefined means Node's roots (lib/webhooks/delivery/tls.ts). */
  ca?: string[];
};

export const systemResolver: Resolver = async (hostname) =>
  (await dns.promises.lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * The addresses a host name stands for. A trailing dot is the same name to DNS, and
 * localhost (with any subdomain) is loopback by definition (RFC 6761), whatever a
 * resolver says.
 */
async function resolveHost(hostname: string, policy: DestinationPolicy): Promise<string[]> {
  const name = hostname.replace(/\.+$/, "").toLowerCase();
  if (name === "localhost" || name.endsWith(".localhost")) return ["127.0.0.1", "::1"];
  return policy.resolve(name);
}

let fromEnv: DestinationPolicy | undefined;

export function policyFromEnv(): DestinationPolicy {
  fromEnv ??= {
    allowPrivate: env().MON1TOR_ALLOW_PRIVATE_URLS,
    allowedCidrs: env().MON1TOR_ALLOWED_CIDRS,
    requireHttps: isProduction() && !env().MON1TOR_ALLOW_HTTP_URLS,
    resolve: systemResolver,
    ca: trustedCas(env().MON1TOR_EXTRA_CA_CERTS),
  };
  return fromEnv;
}

const labels: Record<string, string> = {
  loopback: "loopback",
  private: "private",
  linkLocal: "link-local",
  carrierGradeNat: "carrier-grade NAT",
  uniqueLocal: "unique-local",
  unspecified: "unspecified",
  multicast: "multicast",
  broadcast: "broadcast",
  reserved: "reserved (documentation, benchmark or future use)",
  benchmarking: "benchmarking",
  teredo: "Teredo tunnel",
  discard: "discard-only",
  rfc6052: "NAT64",
};

/** The IPv4 address an IPv6 address carries inside it (mapped, compatible, NAT64, 6to4). */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  const parts = address.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  // ::a.b.c.d (but not :: or ::1, which are themselves)
  if (parts.slice(0, 6).every((part) => part === 0) && parts[6] !== 0) return v4(parts[6]!, parts[7]!);
  if (parts[0] === 0x64 && parts[1] === 0xff9b && parts.slice(2, 6).every((p) => p === 0)) return v4(parts[6]!, parts[7]!);
  if (parts[0] === 0x2002) return v4(parts[1]!, parts[2]!); // 6to4
  return null;
}

/** null for a public unicast address; otherwise a label saying what kind it is. */
export function blockedKind(address: string): string | null {
  let parsed = ipaddr.parse(address.replace(/^\[|\]$/g, ""));
  if (parsed.kind() === "ipv6") {
    const inner = embeddedIPv4(parsed as ipaddr.IPv6);
    if (inner) {
      const kind = inner.range();
      return kind === "unicast" ? null : (labels[kind] ?? kind);
    }
  }
  const kind = parsed.range();
  return kind === "unicast" ? null : (labels[kind] ?? kind);
}

function inAllowedCidrs(address: string, cidrs: string[]): boolean {
  const parsed = ipaddr.process(address.replace(/^\[|\]$/g, ""));
  return cidrs.some((cidr) => {
    try {
      const range = ipaddr.parseCIDR(cidr);
      return parsed.kind() === range[0].kind() && parsed.match(range);
    } catch {
      return false;
    }
  });
}

export class BlockedDestinationError extends Error {
  readonly code = "EMON1TOR_BLOCKED";
  constructor(
    readonly address: string,
    readonly kind: string,
    literal: boolean,
  ) {
    // A hostname's address stays on the server: naming it would let anyone map internal DNS.
    super(literal ? `points to a ${kind} address (${address}), which is not allowed` : `resolves to a ${kind} address, which is not allowed`);
    if (!literal) console.warn(`[mon1tor] refused a destination whose hostname resolves to ${address} (${kind})`);
  }
}

export class SchemePolicyError extends Error {
  readonly code = "EMON1TOR_SCHEME";
  constructor() {
    super("uses http://, but this mon1tor only sends to https:// URLs");
  }
}

/** Throws BlockedDestinationError unless `address` may be contacted under `policy`. */
export function assertAddressAllowed(address: string, policy: DestinationPolicy, literal = false) {
  if (policy.allowPrivate) return;
  const kind = blockedKind(address);
  if (kind && !inAllowedCidrs(address, policy.allowedCidrs)) throw new BlockedDestinationError(address, kind, literal);
}

const literalHost = (hostname: string) => {
  const bare = hostname.replace(/^\[|\]$/g, "");
  return ipaddr.isValid(bare) ? bare : null;
};

/**
 * The save-time check: scheme policy, then every address the host has now. A host that
 * does not resolve is left to validation, which reports it as such.
 */
export async function checkDestination(url: URL, policy: DestinationPolicy): Promise<void> {
  checkLiteralHost(url, policy);
  if (literalHost(url.hostname)) return;
  let addresses: string[];
  try {
    addresses = await resolveHost(url.hostname, policy);
  } catch {
    return;
  }
  for (const address of addresses) assertAddressAllowed(address, policy);
}

/** The connect-time check, as a net lookup function: resolve, check all, connect to those. */
export function guardedLookup(policy: DestinationPolicy): LookupFunction {
  return (hostname, options, callback) => {
    resolveHost(hostname, policy)
      .then((addresses) => {
        if (addresses.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
        for (const address of addresses) assertAddressAllowed(address, policy);
        const entries = addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
        const wanted = options.family === 4 || options.family === 6 ? entries.filter((e) => e.family === options.family) : entries;
        if (wanted.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
        if (options.all) (callback as (e: null, a: typeof wanted) => void)(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      })
      .catch((error: NodeJS.ErrnoException) => callback(error, "", 0));
  };
}

/** The pre-connect check for IP-literal hosts, which never reach a lookup function. */
export function checkLiteralHost(url: URL, policy: DestinationPolicy) {
  if (policy.requireHttps && url.protocol !== "https:") throw new SchemePolicyError();
  const literal = literalHost(url.hostname);
  if (literal) assertAddressAllowed(literal, policy, true);
}
