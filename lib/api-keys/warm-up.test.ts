// The API key lookup's start-up warm-up (warmKeyLookup, run by instrumentation.ts): it runs the
// lookup's queries for no key, and must touch none.
import { describe, expect, it } from "vitest";
import { authenticateApiKey, createApiKey, warmKeyLookup } from "@/lib/api-keys/keys";
import { db } from "@/lib/db";
import { createMember } from "@/lib/testing/factories";

describe("warming the API key lookup", () => {
  it("touches no key, and keys are checked as before after it", async () => {
    const context = await createMember("owner");
    const { id, key } = await createApiKey(context, { name: "warm", permissions: ["alerts:send"] });
    await warmKeyLookup();
    expect((await db.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt).toBeNull();
    expect((await authenticateApiKey(`Bearer ${key}`)).id).toBe(id);
    expect((await db.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt).not.toBeNull();
  });
});
