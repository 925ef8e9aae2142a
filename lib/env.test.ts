import { describe, expect, it } from "vitest";
import { parseServerEnv } from "@/lib/env";

const valid = {
  DATABASE_URL: "postgresql://u:p@localhost:5432/db",
  NEXTAUTH_SECRET: "x".repeat(32),
  CRON_SECRET: "y".repeat(24),
  MON1TOR_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
};

describe("environment validation", () => {
  it("accepts a complete environment and fills the defaults", () => {
    const env = parseServerEnv(valid);
    expect(env).toMatchObject({ MON1TOR_SIGNUP: "open", MON1TOR_MAX_ENDPOINTS_PER_TEAM: 50, MON1TOR_ALLOW_PRIVATE_URLS: false });
  });

  it("names every missing or invalid variable in one message", () => {
    expect(() => parseServerEnv({ DATABASE_URL: "mysql://nope", MON1TOR_ENCRYPTION_KEY: "c2hvcnQ=" })).toThrow(
      /DATABASE_URL must be a postgresql:\/\/ URL[\s\S]*NEXTAUTH_SECRET is missing[\s\S]*CRON_SECRET is missing[\s\S]*MON1TOR_ENCRYPTION_KEY must be 32 bytes/,
    );
  });

  it("refuses an unknown sign-up mode", () => {
    expect(() => parseServerEnv({ ...valid, MON1TOR_SIGNUP: "closed" })).toThrow(/MON1TOR_SIGNUP/);
  });
});
