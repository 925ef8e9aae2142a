import { hash, verify } from "@node-rs/argon2";

export const MIN_PASSWORD_LENGTH = 10;

export const hashPassword = (password: string) => hash(password);

export async function verifyPassword(passwordHash: string, password: string) {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** Verifying against this when the email is unknown keeps the timing of both paths alike. */
let dummyHash: Promise<string> | undefined;
export const dummyPasswordHash = () => (dummyHash ??= hash("mon1tor-no-such-user"));
