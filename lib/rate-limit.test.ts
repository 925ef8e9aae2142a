import { describe, expect, it } from "vitest";
import { fastIngest } from "@/lib/alerts/fast-ingest";
import { db } from "@/lib/db";
import { enforce, hit, hitAll, peek } from "@/lib/rate-limit";
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

  it("counts several limits in one statement, each in its own window", async () => {
    const a = { key: `t:${Math.random()}`, limit: 2, windowSeconds: 60 };
    const b = { key: `t:${Math.random()}`, limit: 1, windowSeconds: 3600 };
    const start = new Date("2026-01-01T00:00:00Z");
    expect((await hitAll([a, b], start)).map((s) => s.allowed)).toEqual([true, true]);
    expect((await hitAll([a, b], new Date(start.getTime() + 1_000))).map((s) => [s.allowed, s.count])).toEqual([[true, 2], [false, 2]]);
    // a's minute is over, b's hour is not.
    expect((await hitAll([a, b], new Date(start.getTime() + 61_000))).map((s) => [s.allowed, s.count])).toEqual([[true, 1], [false, 3]]);
  });
});

describe("the alert API's group statement: each alert answered as if alone, in the order they came", () => {
  const triggered = (title: string, extra: Record<string, unknown> = {}) => ({ title, severity: "info" as const, status: "triggered" as const, ...extra });

  it("a group's alerts of one key count one after another: the first `limit` are accepted, the rest refused with their own counts", async () => {
    const team = await createTeam();
    const limit = { key: `t:${Math.random()}`, limit: 5, windowSeconds: 60, shards: 16 };
    // Submitted together, they go out in one group (one statement).
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => fastIngest(team, triggered(`g ${i}`), { limit, idempotency: null })));
    expect(results.map((r) => r.kind)).toEqual(["accepted", "accepted", "accepted", "accepted", "accepted", "rate_limited", "rate_limited", "rate_limited"]);
    expect(results.slice(5).map((r) => (r.kind === "rate_limited" ? r.state.count : 0))).toEqual([6, 7, 8]);
    expect(await db.alert.count({ where: { teamId: team.id } })).toBe(5);
  });

  it("one Idempotency-Key twice in a group: written once, the second answered from the first; one dedupKey twice: one open alert", async () => {
    const team = await createTeam();
    const limit = { key: `t:${Math.random()}`, limit: 1_000, windowSeconds: 60 };
    const idempotency = { key: `k-${Math.random()}`, hash: "h" };
    const [first, second, third] = await Promise.all([
      fastIngest(team, triggered("same key"), { limit, idempotency }),
      fastIngest(team, triggered("same key"), { limit, idempotency }),
      fastIngest(team, triggered("other"), { limit, idempotency: null }),
    ]);
    expect([first!.kind, second!.kind, third!.kind]).toEqual(["accepted", "replay", "accepted"]);
    const [one, two] = await Promise.all([
      fastIngest(team, triggered("disk full", { dedupKey: "disk" }), { limit, idempotency: null }),
      fastIngest(team, triggered("disk full", { dedupKey: "disk" }), { limit, idempotency: null }),
    ]);
    expect(one!.kind).toBe("accepted");
    expect(two).toEqual({ kind: "deduplicated", alertId: one!.kind === "accepted" ? one!.alertId : "" });
    expect(await db.alert.count({ where: { teamId: team.id } })).toBe(3);
  });
});
