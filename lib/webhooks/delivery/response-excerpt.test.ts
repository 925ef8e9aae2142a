import { describe, expect, it } from "vitest";
import { hasLoneSurrogate } from "@/lib/text";
import { responseExcerpt, STORED_EXCERPT_CHARS } from "@/lib/webhooks/delivery/response-excerpt";

describe("responseExcerpt", () => {
  it("carries nothing from one answer to the next (its decoders are made once)", () => {
    const cut = Buffer.from("ok €", "utf8").subarray(0, 5); // "ok " and two of the euro sign's three bytes
    expect(responseExcerpt(Buffer.from([0x6f, 0x6b, 0xff]), { truncated: false })).toBe("[mon1tor: invalid UTF-8 replaced with U+FFFD]\nok\uFFFD");
    expect(responseExcerpt(Buffer.from("fine é", "utf8"), { truncated: false })).toBe("fine é");
    // Cut by our read limit: replaced, but not the receiver's fault, so no note.
    expect(responseExcerpt(cut, { truncated: true })).toBe("ok \uFFFD");
    expect(responseExcerpt(cut, { truncated: false })).toBe("[mon1tor: invalid UTF-8 replaced with U+FFFD]\nok \uFFFD");
    expect(responseExcerpt(Buffer.from("\uFEFFbom", "utf8"), { truncated: false })).toBe("bom");
    expect(responseExcerpt(Buffer.alloc(0), { truncated: false })).toBeNull();
  });

  it("cuts a long answer of emoji between characters, never through one (no lone surrogate stored)", () => {
    const excerpt = responseExcerpt(Buffer.from("x" + "😀".repeat(STORED_EXCERPT_CHARS), "utf8"), { truncated: false })!;
    expect(excerpt.length).toBe(STORED_EXCERPT_CHARS - 1);
    expect(hasLoneSurrogate(excerpt)).toBe(false);
    expect(excerpt.endsWith("😀")).toBe(true);
  });
});
