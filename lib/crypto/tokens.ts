import crypto from "node:crypto";

/** A URL-safe random token with `bytes` bytes of entropy. */
export const randomToken = (bytes = 32) => crypto.randomBytes(bytes).toString("base64url");

// Public ids (alerts, events, deliveries) take their random bytes from a pool refilled 4 KB at a
// time: in `next start`, each crypto.randomBytes() call goes through Next's I/O tracking, and two
// calls per alert were 1% of the web server's time in a storm. Ids are not secrets; tokens, keys
// and webhook secrets take their bytes straight from crypto.randomBytes().
const ID_BYTES = 12;
let idBytes = Buffer.alloc(0);
let idOffset = 0;

/** `prefix_` and 12 random bytes in base64url (16 characters), e.g. evt_4q4kWcRJ5mZ0nE7x. */
export function randomId(prefix: string): string {
  if (idOffset + ID_BYTES > idBytes.length) {
    idBytes = crypto.randomBytes(4096);
    idOffset = 0;
  }
  const start = idOffset;
  idOffset += ID_BYTES;
  return `${prefix}_${idBytes.toString("base64url", start, idOffset)}`;
}

export const sha256Hex = (value: string) => crypto.createHash("sha256").update(value).digest("hex");

/** Constant-time string comparison; unequal lengths compare as unequal without leaking where. */
export function safeEqual(a: string, b: string): boolean {
  const left = crypto.createHash("sha256").update(a).digest();
  const right = crypto.createHash("sha256").update(b).digest();
  return crypto.timingSafeEqual(left, right) && a.length === b.length;
}
