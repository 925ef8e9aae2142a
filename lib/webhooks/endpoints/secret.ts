import crypto from "node:crypto";

export const SECRET_PREFIX = "whsec_";

/** `whsec_` + standard base64 of 32 CSPRNG bytes (the Standard Webhooks format). */
export const generateSecret = () => `${SECRET_PREFIX}${crypto.randomBytes(32).toString("base64")}`;

/** The raw key bytes for the Standard Webhooks signature: the base64 part, decoded. */
export const secretKeyBytes = (secret: string) => Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");

/** The rolled-away secret's ciphertext while its overlap lasts (it may still sign), else null. */
export function livePreviousSecret(endpoint: { previousSecretCiphertext: string | null; previousSecretExpiresAt: Date | null }, now = new Date()) {
  return endpoint.previousSecretCiphertext && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now ? endpoint.previousSecretCiphertext : null;
}
