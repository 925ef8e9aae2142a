import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { z } from "zod";
import { db } from "@/lib/db";
import { dummyPasswordHash, verifyPassword } from "@/lib/auth/password";
import { describeWait, hit, limits, peek, resetLimit } from "@/lib/rate-limit";

export const WRONG_CREDENTIALS = "Wrong email or password.";

const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().email(),
  password: z.string().min(1).max(1024),
});

function clientIp(headers: Record<string, unknown> | undefined): string {
  const forwarded = headers?.["x-forwarded-for"];
  const first = typeof forwarded === "string" ? forwarded.split(",")[0]?.trim() : undefined;
  return first || "unknown";
}

export const authOptions: NextAuthOptions = {
  session: { strategy: "jwt", maxAge: 30 * 24 * 60 * 60 },
  pages: { signIn: "/signin", error: "/signin" },
  providers: [
    CredentialsProvider({
      name: "Email",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials, req) {
        const parsed = credentialsSchema.safeParse(credentials);
        if (!parsed.success) throw new Error(WRONG_CREDENTIALS);
        const { email, password } = parsed.data;
        const byEmail = limits.signInByEmail(email);
        const byIp = limits.signInByIp(clientIp(req?.headers));
        for (const limit of [byEmail, byIp]) {
          const state = await peek(limit);
          if (!state.allowed) {
            throw new Error(
              `Too many failed sign-in attempts. Try again in ${describeWait(state.retryAfterSeconds)}.`,
            );
          }
        }
        const user = await db.user.findUnique({ where: { email } });
        const ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
        if (!user || !ok) {
          await Promise.all([hit(byEmail), hit(byIp)]);
          throw new Error(WRONG_CREDENTIALS);
        }
        await resetLimit(byEmail.key);
        return { id: user.id, email: user.email, name: user.name };
      },
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
