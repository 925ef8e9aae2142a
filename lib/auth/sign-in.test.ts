// The sign-in limiter under parallel guesses, and the client IP it keys on.
import { describe, expect, it, vi } from "vitest";

vi.hoisted(() => {
  process.env.MON1TOR_TRUSTED_PROXIES = "1";
});
import { authorizeCredentials, TOO_MANY_SIGN_INS, WRONG_CREDENTIALS } from "@/lib/auth/options";
import { db } from "@/lib/db";
import { createUser, TEST_PASSWORD } from "@/lib/testing/factories";

const attempt = (email: string, password: string, forwardedFor?: string) =>
  authorizeCredentials({ email, password }, forwardedFor ? { "x-forwarded-for": forwardedFor } : {}).then(
    (user) => ({ ok: true as const, user }),
    (error: Error) => ({ ok: false as const, message: error.message }),
  );

describe("sign-in limiter", () => {
  it("50 concurrent wrong guesses: at most 5 are verified, the rest are refused before any password check", async () => {
    const user = await createUser();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => attempt(user.email, `wrong-${i}`)));
    const verified = results.filter((r) => !r.ok && r.message === WRONG_CREDENTIALS);
    const refused = results.filter((r) => !r.ok && r.message.startsWith(TOO_MANY_SIGN_INS));
    expect(verified.length).toBeGreaterThan(0);
    expect(verified.length).toBeLessThanOrEqual(5);
    expect(verified.length + refused.length).toBe(50);
    expect(refused[0]).toMatchObject({ message: expect.stringMatching(/^Too many failed sign-in attempts\. Try again in \d+ minutes?\.$/) });
    // Even the right password waits for the window now.
    expect(await attempt(user.email, TEST_PASSWORD)).toMatchObject({ ok: false, message: expect.stringContaining(TOO_MANY_SIGN_INS) });
  });

  it("a right password resets the account's count", async () => {
    const user = await createUser();
    for (let i = 0; i < 4; i++) expect(await attempt(user.email, "wrong")).toMatchObject({ ok: false, message: WRONG_CREDENTIALS });
    expect(await attempt(user.email, TEST_PASSWORD)).toMatchObject({ ok: true });
    for (let i = 0; i < 5; i++) expect(await attempt(user.email, "wrong")).toMatchObject({ ok: false, message: WRONG_CREDENTIALS });
  });

  it("per IP, keyed on the address the trusted proxy saw: a spoofed leftmost entry changes nothing", async () => {
    const ip = `203.0.113.${Math.floor(Math.random() * 200) + 1}`;
    const results = [];
    for (let i = 0; i < 21; i++) {
      const user = await createUser();
      // A client that rotates its own X-Forwarded-For entry on every guess.
      results.push(await attempt(user.email, "wrong", `198.51.100.${i}, ${ip}`));
    }
    expect(results.slice(0, 20).every((r) => !r.ok && r.message === WRONG_CREDENTIALS)).toBe(true);
    expect(results[20]).toMatchObject({ ok: false, message: expect.stringContaining(TOO_MANY_SIGN_INS) });
    expect(await db.rateLimit.findUnique({ where: { key: `signin:ip:${ip}` } })).toMatchObject({ count: 21 });
    expect(await db.rateLimit.count({ where: { key: { startsWith: "signin:ip:198.51.100." } } })).toBe(0);
  });
});
