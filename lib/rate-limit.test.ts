import { describe, expect, it } from "vitest";
import { fastIngest } from "@/lib/alerts/fast-ingest";
import { enforce, hit, peek } from "@/lib/rate-limit";
import { createTeam } from "@/lib/testing/factories";

describe("rate limiter (PostgreSQL fixed window)", () => {
  it("allows up to the limit, then refuses with the time left", async () => {
    const limit = { key: `t:${Math.random()}`, limit: 3, windowSeconds: 60 };
    const start = new Date("2026-01-01T00:00:00Z");
    const states = [];
    for (let i = 0; i < 4; i++) states.push(await hit(limit, new Date(start.getTime() + i * 1000)));
    expect(states.map((s) => s.allowed)).toEqual([true, true, true, false]);
    expect(states[3]!.retryAfterSeconds).toBe(57);
    expect((await peek(limit, new Date(start.getTime() + 5000))).allowed).toBe(false);
  });

  it("starts a new window once the old one has passed", async () => {
    const limit = { key: `t:${Math.random()}`, limit: 1, windowSeconds: 60 };
    const start = new Date("2026-01-01T00:00:00Z");
    expect((await hit(limit, start)).allowed).toBe(true);
    expect((await hit(limit, new Date(start.getTime() + 30_000))).allowed).toBe(false);
    expect((await peek(limit, new Date(start.getTime() + 61_000))).allowed).toBe(true);
    expect((await hit(limit, new Date(start.getTime() + 61_000))).allowed).toBe(true);
  });

  it("enforce() throws a clear rate_limited error", async () => {
    const limit = { key: `t:${Math.random()}`, limit: 1, windowSeconds: 3600 };
    await enforce(limit, "test sends");
    await expect(enforce(limit, "test sends")).rejects.toMatchObject({
      code: "rate_limited",
      message: expect.stringMatching(/^Too many test sends: the limit is 1 per hour\. Try again in \d+ minutes?\.$/),
    });
  });

  it("is one count for the alert API's one-statement ingest and for hit(): both paths share the counter and its shards", async () => {
    const team = await createTeam();
    const limit = { key: `t:${Math.random()}`, limit: 3, windowSeconds: 60, shards: 4 };
    const alert = () => fastIngest(team, { title: "x", severity: "info", status: "triggered" }, { limit, idempotency: null });
    expect((await alert()).kind).toBe("accepted");
    expect((await hit(limit)).allowed).toBe(true);
    expect((await alert()).kind).toBe("accepted");
    const fourth = await alert();
    expect(fourth).toMatchObject({ kind: "rate_limited", state: { allowed: false, count: 4 } });
    expect((await hit(limit)).count).toBe(5);
  });
});
