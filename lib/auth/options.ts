import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { z } from "zod";
import { db } from "@/lib/db";
import { dummyPasswordHash, verifyPassword } from "@/lib/auth/password";
import { clientIpFrom } from "@/lib/auth/client-ip";
import { env } from "@/lib/env";
import { describeWait, hitAll, limits, refund, resetLimit } from "@/lib/rate-limit";

export const WRONG_CREDENTIALS = "Wrong email or password.";

const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().email(),
  password: z.string().min(1).max(1024),
});

export const TOO_MANY_SIGN_INS = "Too many failed sign-in attempts.";

/**
 * Checks an email and password. The attempt is counted first, atomically and before the
 * password is verified, per account and (when the client IP is known) per IP: parallel
 * guesses each take a count, so no more than the limit are ever verified. A right password
 * resets the account's count and gives the IP's back.
 */
export async function authorizeCredentials(credentials: unknown, headers: Record<string, unknown> | undefined) {
  const parsed = credentialsSchema.safeParse(credentials);
  if (!parsed.success) throw new Error(WRONG_CREDENTIALS);
  const { email, password } = parsed.data;
  const forwarded = headers?.["x-forwarded-for"];
  const ip = clientIpFrom(typeof forwarded === "string" ? forwarded : null, env().MON1TOR_TRUSTED_PROXIES);
  const byEmail = limits.signInByEmail(email);
  // An unknown IP has no bucket of its own: one shared "unknown" bucket would let anyone lock everyone out.
  const byIp = ip ? limits.signInByIp(ip) : null;
  const states = await hitAll(byIp ? [byEmail, byIp] : [byEmail]);
  const refused = states.find((state) => !state.allowed);
  if (refused) throw new Error(`${TOO_MANY_SIGN_INS} Try again in ${describeWait(refused.retryAfterSeconds)}.`);
  const user = await db.user.findUnique({ where: { email } });
  const ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
  if (!user || !ok) throw new Error(WRONG_CREDENTIALS);
  await resetLimit(byEmail.key);
  if (byIp) await refund(byIp);
  return { id: user.id, email: user.email, name: user.name };
}

export const authOptions: NextAuthOptions = {
  session: { strategy: "jwt", maxAge: 30 * 24 * 60 * 60 },
  pages: { signIn: "/signin", error: "/signin" },
  providers: [
    CredentialsProvider({
      name: "Email",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      authorize: (credentials, req) => authorizeCredentials(credentials, req?.headers),
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      if (user) token.sub = user.id;
      return token;
    },
    session({ session, token }) {
      if (session.user && token.sub) session.user.id = token.sub;
      return session;
    },
  },
};
