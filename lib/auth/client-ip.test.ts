import { describe, expect, it } from "vitest";
import { clientIpFrom, parseTrustedProxies } from "@/lib/auth/client-ip";

describe("client IP from trusted hops", () => {
  it("with nothing trusted, a client-chosen header is never used", () => {
    expect(clientIpFrom("6.6.6.6", null)).toBeNull();
    expect(clientIpFrom("6.6.6.6, 10.0.0.1", parseTrustedProxies(undefined))).toBeNull();
  });

  it("with a hop count, takes the address the last trusted proxy saw", () => {
    const one = parseTrustedProxies("1");
    expect(clientIpFrom("203.0.113.7", one)).toBe("203.0.113.7");
    expect(clientIpFrom("1.1.1.1, 203.0.113.7", one)).toBe("203.0.113.7"); // spoofed leftmost entry ignored
    const two = parseTrustedProxies("2");
    expect(clientIpFrom("1.1.1.1, 203.0.113.7, 10.0.0.2", two)).toBe("203.0.113.7");
    expect(clientIpFrom("10.0.0.2", two)).toBeNull(); // fewer hops than configured: unknown
  });

  it("with CIDRs, takes the rightmost address that is not a trusted proxy", () => {
    const trusted = parseTrustedProxies("10.0.0.0/8, 127.0.0.1");
    expect(clientIpFrom("1.1.1.1, 203.0.113.7, 10.1.2.3, 127.0.0.1", trusted)).toBe("203.0.113.7");
    expect(clientIpFrom("10.1.2.3", trusted)).toBeNull();
    expect(clientIpFrom("garbage, 10.1.2.3", trusted)).toBeNull();
    expect(clientIpFrom("[2001:db8::1], 10.1.2.3", trusted)).toBe("2001:db8::1");
    expect(clientIpFrom("::ffff:203.0.113.9", trusted)).toBe("203.0.113.9");
  });

  it("refuses a malformed setting with a clear message", () => {
    expect(() => parseTrustedProxies("0")).toThrow("must be a hop count from 1 to 10");
    expect(() => parseTrustedProxies("10.0.0.0/8, nonsense")).toThrow("has 'nonsense', which is neither a hop count nor an IP address or CIDR");
  });
});
