// Where webhooks may go by default, for each way of starting mon1tor.
import { describe, expect, it } from "vitest";
import { applyDestinationDefaults, applyLocalDefaults } from "./lib/local-config";

const secrets = { NEXTAUTH_SECRET: "n".repeat(40), CRON_SECRET: "c".repeat(40), MON1TOR_ENCRYPTION_KEY: "k", postgresPassword: "p" };

/** What `npm run dev` / `npm start` end up with: embedded (no DATABASE_URL) or a given database. */
function startEnv(production: boolean, databaseUrl: string | null, extra: Record<string, string | undefined> = {}) {
  const env: Record<string, string | undefined> = { ...extra, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
  if (!databaseUrl) applyLocalDefaults(env, secrets, "postgresql://postgres:p@127.0.0.1:54329/mon1tor");
  const warnings = applyDestinationDefaults(env, production);
  return { env, warnings };
}

describe("destination defaults", () => {
  it.each([
    ["dev, embedded database", false, null, "true"],
    ["dev, DATABASE_URL", false, "postgresql://db.internal/mon1tor", "true"],
    ["production, embedded database", true, null, undefined],
    ["production, DATABASE_URL", true, "postgresql://db.internal/mon1tor", undefined],
  ])("%s", (_, production, databaseUrl, expected) => {
    const { env, warnings } = startEnv(production as boolean, databaseUrl as string | null);
    expect(env.MON1TOR_ALLOW_PRIVATE_URLS).toBe(expected);
    expect(env.MON1TOR_ALLOW_HTTP_URLS).toBe(expected);
    expect(warnings).toEqual([]);
  });

  it("an operator who turns them on in production gets a one-line warning each", () => {
    const { env, warnings } = startEnv(true, null, { MON1TOR_ALLOW_PRIVATE_URLS: "true", MON1TOR_ALLOW_HTTP_URLS: "false" });
    expect(env.MON1TOR_ALLOW_PRIVATE_URLS).toBe("true");
    expect(warnings).toEqual([
      "[mon1tor] warning: MON1TOR_ALLOW_PRIVATE_URLS is on in production: webhooks may reach private, loopback and link-local addresses (169.254.169.254, your internal services).",
    ]);
  });

  it("dev never overrides what the developer set", () => {
    expect(startEnv(false, null, { MON1TOR_ALLOW_PRIVATE_URLS: "false" }).env.MON1TOR_ALLOW_PRIVATE_URLS).toBe("false");
  });
});
