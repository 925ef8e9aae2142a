import crypto from "node:crypto";

export const SECRET_PREFIX = "whsec_";

/** `whsec_` + standard base64 of 32 CSPRNG bytes (the Standard Webhooks format). */
export const generateSecret = () => `${SECRET_PREFIX}${crypto.randomBytes(32).toString("base64")}`;

/** The raw key bytes for the Standard Webhooks signature: the base64 part, decoded. */
export const secretKeyBytes = (secret: string) => Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");
