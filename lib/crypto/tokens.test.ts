import { describe, expect, it } from "vitest";
import { randomId, safeEqual } from "@/lib/crypto/tokens";

describe("ids and tokens", () => {
  it("randomId: the prefix and 16 base64url characters, never the same twice across pool refills", () => {
    // 4 KB of pool is 341 ids: this crosses it many times.
    const ids = Array.from({ length: 5_000 }, () => randomId("evt"));
    for (const id of ids) expect(id).toMatch(/^evt_[A-Za-z0-9_-]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("safeEqual: equal strings only, whatever their lengths", () => {
    expect(safeEqual("whsec_abc", "whsec_abc")).toBe(true);
    expect(safeEqual("whsec_abc", "whsec_abd")).toBe(false);
    expect(safeEqual("whsec_abc", "whsec_ab")).toBe(false);
  });
});
