// The client's IP address, for the sign-in limiter and the audit log. It comes from a hop
// the operator trusts, never from what the client says: the leftmost X-Forwarded-For entry
// is whatever the client typed.
//
// MON1TOR_TRUSTED_PROXIES is either a hop count ("1": one proxy in front, such as nginx or
// Vercel's edge) or a list of the proxies' CIDRs ("10.0.0.0/8,127.0.0.1/32"). With a hop
// count, the client is the entry that many places from the right of X-Forwarded-For. With
// CIDRs, it is the rightmost entry that is not a trusted proxy. Unset: Next does not hand the
// socket address to the app in a way that can be told apart from a client-sent header, so
// the address is unknown (null) rather than guessed.
import ipaddr from "ipaddr.js";

export type TrustedProxies = { hops: number } | { cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][] } | null;

/** Parses MON1TOR_TRUSTED_PROXIES; throws with a readable message on a bad value. */
export function parseTrustedProxies(value: string | undefined): TrustedProxies {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops < 1 || hops > 10) throw new Error("must be a hop count from 1 to 10, or a comma-separated list of CIDRs");
    return { hops };
  }
  const cidrs = text.split(",").map((entry) => entry.trim()).filter(Boolean).map((entry) => {
    try {
      return entry.includes("/") ? ipaddr.parseCIDR(entry) : ([ipaddr.parse(entry), ipaddr.parse(entry).kind() === "ipv4" ? 32 : 128] as [ipaddr.IPv4 | ipaddr.IPv6, number]);
    } catch {
      throw new Error(`has '${entry}', which is neither a hop count nor an IP address or CIDR`);
    }
  });
  return { cidrs };
}

const normalized = (entry: string): string | null => {
  const bare = entry.trim().replace(/^\[|\]$/g, "").replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, "$1");
  if (!ipaddr.isValid(bare)) return null;
  const address = ipaddr.process(bare);
  return address.toString();
};

const inCidrs = (entry: string, cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][]) => {
  const address = ipaddr.process(entry);
  return cidrs.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
};

/** The client IP from an X-Forwarded-For value, as trusted hops allow; null when unknown. */
export function clientIpFrom(forwardedFor: string | null | undefined, trusted: TrustedProxies): string | null {
  if (!trusted || !forwardedFor) return null;
  const chain = forwardedFor.split(",").map((entry) => entry.trim()).filter(Boolean);
  if ("hops" in trusted) {
    const entry = chain[chain.length - trusted.hops];
    return entry === undefined ? null : normalized(entry);
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    const entry = normalized(chain[i]!);
    if (entry === null) return null;
    if (!inCidrs(entry, trusted.cidrs)) return entry;
  }
  return null;
}
