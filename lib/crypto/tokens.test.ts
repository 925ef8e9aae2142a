import { describe, expect, it } from "vitest";
import { idTime, randomId, safeEqual, timeOrderedId } from "@/lib/crypto/tokens";

describe("ids and tokens", () => {
  it("randomId: the prefix and 16 base64url characters, never the same twice across pool refills", () => {
    // 4 KB of pool is 341 ids: this crosses it many times.
    const ids = Array.from({ length: 5_000 }, () => randomId("evt"));
    for (const id of ids) expect(id).toMatch(/^evt_[A-Za-z0-9_-]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("timeOrderedId: the prefix and 16 base64url characters that sort by when they were made, never the same twice", async () => {
    const before = Date.now();
    const first = Array.from({ length: 5_000 }, () => timeOrderedId("msg"));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const later = timeOrderedId("msg");
    const after = Date.now();
    for (const id of [...first, later]) expect(id).toMatch(/^msg_[0-9a-z]{8}[A-Za-z0-9_-]{8}$/);
    expect(new Set(first).size).toBe(first.length);
    const time = (id: string) => id.slice(4, 12);
    expect(time(first[0]!) >= idTime(before) && time(later) <= idTime(after)).toBe(true);
    // Only the time orders them: ids of one millisecond are in no particular order among themselves.
    expect(first.every((id) => id < later)).toBe(true);
  });

  it("safeEqual: equal strings only, whatever their lengths", () => {
    expect(safeEqual("whsec_abc", "whsec_abc")).toBe(true);
    expect(safeEqual("whsec_abc", "whsec_abd")).toBe(false);
    expect(safeEqual("whsec_abc", "whsec_ab")).toBe(false);
  });
});
