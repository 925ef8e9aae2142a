// AES-256-GCM for secrets at rest. Each ciphertext names the key that made it, so keys
// can rotate: decrypt with any known key, encrypt with the current one.
import crypto from "node:crypto";
import { env } from "@/lib/env";

export type Key = { id: string; bytes: Buffer };
export type KeyRing = { current: Key; all: Map<string, Key> };

const VERSION = "v1";

export function keyFrom(base64: string): Key {
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length !== 32) throw new Error("An encryption key must be 32 bytes, base64-encoded.");
  return { id: crypto.createHash("sha256").update(bytes).digest("hex").slice(0, 8), bytes };
}

export function keyRing(current: string, previous: string[] = []): KeyRing {
  const keys = [current, ...previous].map(keyFrom);
  return { current: keys[0]!, all: new Map(keys.map((key) => [key.id, key])) };
}

let ring: KeyRing | undefined;
export const defaultKeyRing = () =>
  (ring ??= keyRing(env().MON1TOR_ENCRYPTION_KEY, env().MON1TOR_ENCRYPTION_KEYS_PREVIOUS));

export class DecryptionError extends Error {}

export function encrypt(plaintext: string, keys: KeyRing = defaultKeyRing()): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", keys.current.bytes, iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, keys.current.id, iv.toString("base64url"), body.toString("base64url"), tag.toString("base64url")].join(".");
}

export function keyIdOf(ciphertext: string): string | undefined {
  return ciphertext.split(".")[1];
}

export function decrypt(ciphertext: string, keys: KeyRing = defaultKeyRing()): string {
  const [version, keyId, iv, body, tag] = ciphertext.split(".");
  if (version !== VERSION || !keyId || !iv || !body || !tag) throw new DecryptionError("Not a mon1tor ciphertext.");
  const key = keys.all.get(keyId);
  if (!key) throw new DecryptionError(`No configured encryption key has id ${keyId}; add it to MON1TOR_ENCRYPTION_KEYS_PREVIOUS.`);
  try {
    const decipher = crypto.createDecipheriv("aes-256-gcm", key.bytes, Buffer.from(iv, "base64url"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new DecryptionError("The ciphertext was altered or the key is wrong.");
  }
}
