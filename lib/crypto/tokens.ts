import crypto from "node:crypto";

/** A URL-safe random token with `bytes` bytes of entropy. */
export const randomToken = (bytes = 32) => crypto.randomBytes(bytes).toString("base64url");

// Public ids (alerts, events, deliveries) take their random bytes from a pool refilled 4 KB at a
// time: in `next start`, each crypto.randomBytes() call goes through Next's I/O tracking, and two
// calls per alert were 1% of the web server's time in a storm. Ids are not secrets; tokens, keys
// and webhook secrets take their bytes straight from crypto.randomBytes().
let idBytes = Buffer.alloc(0);
let idOffset = 0;

/** `bytes` random bytes from the pool, in base64url. */
function pooledRandom(bytes: number): string {
  if (idOffset + bytes > idBytes.length) {
    idBytes = crypto.randomBytes(4096);
    idOffset = 0;
  }
  const start = idOffset;
  idOffset += bytes;
  return idBytes.toString("base64url", start, idOffset);
}

/** `prefix_` and 12 random bytes in base64url (16 characters), e.g. rr_4q4kWcRJ5mZ0nE7x. */
export function randomId(prefix: string): string {
  return `${prefix}_${pooledRandom(12)}`;
}

/** The first 8 characters of a time-ordered id: milliseconds since 1970 in base 36, lowercase (so in order under any collation) until 2059. */
export const idTime = (ms: number) => ms.toString(36).padStart(8, "0");

/**
 * `prefix_`, the time it was made (idTime) and 6 random bytes in base64url: 16 characters, e.g.
 * msg_mibx3k0q4kWcRJ5m. For the ids of rows written at a storm's rate (alerts, events,
 * deliveries): a new id lands at the right edge of its indexes, as a sequence would, instead of
 * on a random page. Random ids split pages all over the key indexes (a sixth of a delivery's
 * WAL), and after each checkpoint logged a full image of every page they touched. 48 random bits
 * within each millisecond: ten thousand ids a second for a century share none, but by chance.
 */
export function timeOrderedId(prefix: string): string {
  return `${prefix}_${idTime(Date.now())}${pooledRandom(6)}`;
}

export const sha256Hex = (value: string) => crypto.createHash("sha256").update(value).digest("hex");

/** Constant-time string comparison; unequal lengths compare as unequal without leaking where. */
export function safeEqual(a: string, b: string): boolean {
  const left = crypto.createHash("sha256").update(a).digest();
  const right = crypto.createHash("sha256").update(b).digest();
  return crypto.timingSafeEqual(left, right) && a.length === b.length;
}
