import crypto from "node:crypto";

/** A URL-safe random token with `bytes` bytes of entropy. */
export const randomToken = (bytes = 32) => crypto.randomBytes(bytes).toString("base64url");

export const sha256Hex = (value: string) => crypto.createHash("sha256").update(value).digest("hex");

/** Constant-time string comparison; unequal lengths compare as unequal without leaking where. */
export function safeEqual(a: string, b: string): boolean {
  const left = crypto.createHash("sha256").update(a).digest();
  const right = crypto.createHash("sha256").update(b).digest();
  return crypto.timingSafeEqual(left, right) && a.length === b.length;
}
