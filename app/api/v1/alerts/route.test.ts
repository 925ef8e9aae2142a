// The alert API's handler, called as Next calls it, on PostgreSQL.
import zlib from "node:zlib";
import { describe, expect, it, vi } from "vitest";

vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: () => {},
}));
import { POST } from "@/app/api/v1/alerts/route";
import { authenticateApiKey, createApiKey, forgetCheckedKey, KEY_CACHE_MS, revokeApiKey } from "@/lib/api-keys/keys";
import type { PoolClient } from "pg";
import { db, pool } from "@/lib/db";
import { counterKeys, limits } from "@/lib/rate-limit";
import { createActiveEndpoint, createMember } from "@/lib/testing/factories";
import { envelopeSchema } from "@/lib/webhooks/delivery/envelope";

async function keyForNewTeam() {
  const owner = await createMember("owner");
  const { id: keyId, key } = await createApiKey(owner, { name: "test", permissions: ["alerts:send"] });
  return { owner, key, keyId };
}

/** Key checks waiting at their "last used" write on a held ApiKey row. */
const waitingKeyWrites = async () =>
  (await pool.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE "public"."ApiKey"%'`)).rows.length;

/** Runs `work` while a transaction holds the key's row: a check reads it, then waits at its "last used" write. */
async function withKeyRowHeld(keyId: string, work: (holder: PoolClient) => Promise<void>) {
  const holder = await pool.connect();
  try {
    await holder.query("BEGIN");
    await holder.query(`SELECT 1 FROM "ApiKey" WHERE id = $1 FOR UPDATE`, [keyId]);
    await work(holder);
  } finally {
    await holder.query("ROLLBACK").catch(() => {}); // a no-op once work committed
    holder.release();
  }
}

const post = (key: string, body: unknown, headers: Record<string, string> = {}) =>
  POST(
    new Request("http://localhost/api/v1/alerts", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    }),
  );

describe("POST /api/v1/alerts", () => {
  it("refuses a NUL character with a 422 that names the field, and stores nothing", async () => {
    const { owner, key } = await keyForNewTeam();
    for (const [field, body] of [
      ["title", { title: "CPU\u0000high" }],
      ["message", { title: "CPU high", message: "a\u0000b" }],
      ["dedupKey", { title: "CPU high", dedupKey: "k\u0000" }],
      ["monitor.name", { title: "CPU high", monitor: { id: "m", name: "\u0000" } }],
    ] as const) {
      const response = await post(key, body);
      expect(response.status, field).toBe(422);
      const json = (await response.json()) as { error: { code: string; message: string; fields: Record<string, string[]> } };
      expect(json.error.code).toBe("validation");
      expect(json.error.message).toBe(`Invalid field '${field}': must not contain NUL (\\u0000) characters`);
      expect(Object.keys(json.error.fields)).toEqual([field]);
    }
    expect(await db.alert.count({ where: { teamId: owner.team.id } })).toBe(0);
  });

  it("refuses an unpaired UTF-16 surrogate with a 422 naming the field, where it was a 500 or silently stored as U+FFFD", async () => {
    const { owner, key } = await keyForNewTeam();
    for (const [field, body] of [
      ["title", { title: "lone \ud800 half" }],
      ["dedupKey", { title: "x", dedupKey: "k-\udfff", status: "resolved" }],
      ["monitor.id", { title: "x", monitor: { id: "\ud83d", name: "n" } }],
    ] as const) {
      const response = await post(key, body);
      expect(response.status, field).toBe(422);
      const json = (await response.json()) as { error: { message: string } };
      expect(json.error.message).toBe(`Invalid field '${field}': must not contain an unpaired UTF-16 surrogate (such as \\ud800)`);
    }
    expect(await db.alert.count({ where: { teamId: owner.team.id } })).toBe(0);
    // A whole pair (an emoji) is text like any other.
    expect((await post(key, { title: "fire \ud83d\udd25" })).status).toBe(202);
    expect((await db.alert.findFirstOrThrow({ where: { teamId: owner.team.id } })).title).toBe("fire 🔥");
  });

  it("an occurredAt PostgreSQL cannot store or no clock should give (year 0, before 1970, days ahead) gets a 422, not a 500", async () => {
    const { owner, key } = await keyForNewTeam();
    const ahead = new Date(Date.now() + 3 * 24 * 60 * 60 * 1000).toISOString();
    for (const occurredAt of ["0000-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "1969-12-31T23:59:59Z", ahead, "9999-12-31T23:59:59Z"]) {
      const response = await post(key, { title: "Clock", occurredAt });
      expect(response.status, occurredAt).toBe(422);
      const json = (await response.json()) as { error: { message: string } };
      expect(json.error.message).toBe("Invalid field 'occurredAt': must be between 1970-01-01T00:00:00Z and 24 hours from now");
    }
    expect(await db.alert.count({ where: { teamId: owner.team.id } })).toBe(0);
    // A sender whose clock runs an hour fast is still heard.
    expect((await post(key, { title: "Clock", occurredAt: new Date(Date.now() + 60 * 60 * 1000).toISOString() })).status).toBe(202);
  });

  it("a body that is not a JSON object, or has a field the API does not know, gets a 422 naming what is wrong, and stores nothing", async () => {
    const { owner, key } = await keyForNewTeam();
    type Refusal = { error: { code: string; message: string; fields: Record<string, string[]> } };
    for (const body of [[{ title: "CPU high" }], null, "CPU high", 42]) {
      const response = await post(key, body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      const json = (await response.json()) as Refusal;
      expect(json.error.message).toBe(`The request body must be a JSON object, such as {"title": "Disk full"}.`);
      expect(json.error.fields).toEqual({ body: ["must be a JSON object"] });
    }
    for (const [body, field] of [
      [{ title: "CPU high", priority: "P1" }, "priority"],
      [{ title: "CPU high", monitor: { id: "m", name: "M", url: "https://x" } }, "monitor.url"],
    ] as const) {
      const json = (await (await post(key, body)).json()) as Refusal;
      expect(json.error.message).toBe(`Invalid field '${field}': Unknown field`);
      expect(json.error.fields).toEqual({ [field]: ["Unknown field"] });
    }
    // Field names that are also Object.prototype's members: a 500 before fieldErrorsOf kept them in a Map.
    for (const field of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      const response = await POST(
        new Request("http://localhost/api/v1/alerts", {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: `{"title":"CPU high","${field}":{"prototype":{"admin":true}}}`,
        }),
      );
      expect(response.status, field).toBe(422);
      const json = (await response.json()) as Refusal;
      expect(json.error.message).toBe(`Invalid field '${field}': Unknown field`);
      expect(Object.entries(json.error.fields)).toEqual([[field, ["Unknown field"]]]);
    }
    expect(await db.alert.count({ where: { teamId: owner.team.id } })).toBe(0);
  });

  it("a body with a byte-order mark is read as JSON; one that is not UTF-8, or is compressed, is refused by name, and stores nothing", async () => {
    const { owner, key } = await keyForNewTeam();
    const send = (body: Buffer, headers: Record<string, string> = {}) =>
      POST(new Request("http://localhost/api/v1/alerts", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers }, body: new Uint8Array(body) }));
    const json = (text: string) => Buffer.from(text);
    const withBom = await send(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(`{"title":"CPU high"}`)]));
    expect(withBom.status).toBe(202);
    const notUtf8 = await send(Buffer.concat([json(`{"title":"CPU `), Buffer.from([0xff, 0xfe]), json(`"}`)]));
    expect(notUtf8.status).toBe(400);
    expect(((await notUtf8.json()) as { error: { message: string } }).error.message).toBe("The request body is not valid UTF-8 text.");
    const gzipped = await send(zlib.gzipSync(`{"title":"CPU high"}`), { "content-encoding": "gzip" });
    expect(gzipped.status).toBe(415);
    expect(((await gzipped.json()) as { error: { message: string } }).error.message).toBe("Content-Encoding 'gzip' is not supported: send the alert uncompressed.");
    expect(await db.alert.findMany({ where: { teamId: owner.team.id }, select: { title: true } })).toEqual([{ title: "CPU high" }]);
  });

  it("every alert id has the alt_ form, also for a resolved state with no open alert (the transaction path)", async () => {
    const { key } = await keyForNewTeam();
    const bodies = [{ title: "a" }, { title: "b", dedupKey: "k", status: "resolved" }, { title: "c", dedupKey: "k" }];
    for (const body of bodies) {
      const response = await post(key, body);
      expect(response.status).toBe(202);
      expect(((await response.json()) as { id: string }).id).toMatch(/^alt_[A-Za-z0-9_-]{16}$/);
    }
  });

  it("concurrent triggers with one dedupKey open exactly one alert, enforced by the database", async () => {
    const { owner, key } = await keyForNewTeam();
    const responses = await Promise.all(Array.from({ length: 12 }, () => post(key, { title: "db-1 down", dedupKey: "db-1" })));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { id: string; deduplicated: boolean }[];
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(202));
    expect(bodies.filter((b) => !b.deduplicated)).toHaveLength(1);
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(await db.alert.count({ where: { teamId: owner.team.id, dedupKey: "db-1", status: "triggered" } })).toBe(1);
    expect(await db.event.count({ where: { teamId: owner.team.id } })).toBe(1);

    // Resolving closes it; the next trigger opens a new one.
    expect((await (await post(key, { title: "db-1 down", dedupKey: "db-1", status: "resolved" })).json()).id).toBe(bodies[0]!.id);
    const reopened = (await (await post(key, { title: "db-1 down again", dedupKey: "db-1" })).json()) as { id: string; deduplicated: boolean };
    expect(reopened.deduplicated).toBe(false);
    expect(reopened.id).not.toBe(bodies[0]!.id);
  });

  it("a new alert is one statement that writes what the transaction path writes: alert, event, matching deliveries, idempotency", async () => {
    const { owner, key } = await keyForNewTeam();
    const { endpoint: all } = await createActiveEndpoint(owner.team.id, "https://example.com/all");
    const { endpoint: critical } = await createActiveEndpoint(owner.team.id, "https://example.com/critical");
    await db.webhookEndpoint.update({ where: { id: critical.id }, data: { severities: ["critical"] } });
    const { endpoint: monitor } = await createActiveEndpoint(owner.team.id, "https://example.com/monitor");
    await db.webhookEndpoint.update({ where: { id: monitor.id }, data: { monitorIds: ["mon-db"] } });
    await db.webhookEndpoint.create({ data: { teamId: owner.team.id, url: "https://example.com/paused", status: "paused", secretCiphertext: all.secretCiphertext } });
    const input = { title: "Disk 91%", severity: "warning", message: "on db-2", monitor: { id: "mon-db", name: "DB disk" }, occurredAt: "2026-11-27T10:00:00.000Z" };

    const response = await post(key, input);
    expect(response.status).toBe(202);
    const body = (await response.json()) as { id: string; eventId: string; deliveriesQueued: number; deduplicated: boolean };
    expect(body).toMatchObject({ deliveriesQueued: 2, deduplicated: false });
    const alert = await db.alert.findUniqueOrThrow({ where: { id: body.id } });
    expect(alert).toMatchObject({ teamId: owner.team.id, title: "Disk 91%", severity: "warning", status: "triggered", message: "on db-2", monitorId: "mon-db", lastSequence: 1, lastEventId: body.eventId });
    expect(alert.startedAt.toISOString()).toBe("2026-11-27T10:00:00.000Z");
    const event = await db.event.findUniqueOrThrow({ where: { id: body.eventId }, include: { deliveries: true } });
    expect(event).toMatchObject({ teamId: owner.team.id, type: "alert.triggered", alertId: body.id, sequence: 1 });
    expect(event.deliveries.map((d) => d.endpointId).sort()).toEqual([all.id, monitor.id].sort());
    for (const delivery of event.deliveries) {
      expect(delivery).toMatchObject({ status: "pending", alertId: body.id, sequence: 1, teamId: owner.team.id });
      expect(delivery.id).toMatch(/^msg_[A-Za-z0-9_-]{16}$/);
    }
    // The stored body is a valid envelope describing the stored alert.
    const envelope = envelopeSchema.parse(JSON.parse(event.body));
    expect(envelope.data.alert).toMatchObject({ id: body.id, title: "Disk 91%", severity: "warning", status: "triggered", sequence: 1, previousEventId: null, startedAt: "2026-11-27T10:00:00.000Z" });

    // Idempotency-Key: the retry gets the first answer and writes nothing; another body is refused.
    const first = await post(key, { title: "once" }, { "idempotency-key": "k-1" });
    const firstBody = await first.json();
    const retry = await post(key, { title: "once" }, { "idempotency-key": "k-1" });
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await retry.json()).toEqual(firstBody);
    expect(await db.alert.count({ where: { teamId: owner.team.id, title: "once" } })).toBe(1);
    const other = await post(key, { title: "twice" }, { "idempotency-key": "k-1" });
    expect(other.status).toBe(422);
    expect(await db.alert.count({ where: { teamId: owner.team.id, title: "twice" } })).toBe(0);
  });

  it("counts the request against the key's limit in the same statement: over it, 429 with Retry-After and nothing stored", async () => {
    const { owner, key, keyId } = await keyForNewTeam();
    expect((await post(key, { title: "first" })).status).toBe(202);
    const limit = limits.alertApiPerKey(keyId);
    // Counted in one of the key's shards; the limit is over their sum.
    const counted = await db.rateLimit.findMany({ where: { key: { in: counterKeys(limit) } } });
    expect(counted.reduce((sum, row) => sum + row.count, 0)).toBe(1);
    // Fill the other shards up to the limit, as other requests of this minute would have.
    const others = counterKeys(limit).filter((k) => k !== counted[0]!.key);
    const per = Math.ceil(limit.limit / others.length);
    for (const [i, k] of others.entries()) {
      const count = Math.min(per, limit.limit - 1 - i * per);
      if (count > 0) await db.rateLimit.create({ data: { key: k, count, windowStart: new Date() } });
    }
    const refused = await post(key, { title: "one too many" });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await refused.json()).error.message).toMatch(
      new RegExp(`^Too many requests for this API key: the limit is ${limit.limit} per minute\\. Try again in (\\d+ seconds?|1 minute)\\.$`),
    );
    expect(await db.alert.count({ where: { teamId: owner.team.id, title: "one too many" } })).toBe(0);
    // The general path (a resolve by dedupKey) counts against the same limit.
    expect((await post(key, { title: "x", dedupKey: "d", status: "resolved" })).status).toBe(429);
  });

  it("a revoked key stops working within a few seconds in every process, and at once in the one that revoked it", async () => {
    const { key, keyId } = await keyForNewTeam();
    const t0 = Date.now();
    expect((await authenticateApiKey(`Bearer ${key}`, t0)).id).toBe(keyId);
    // Revoked by another instance: this one may still trust its check for KEY_CACHE_MS.
    await db.apiKey.update({ where: { id: keyId }, data: { revokedAt: new Date() } });
    expect((await authenticateApiKey(`Bearer ${key}`, t0 + 1_000)).id).toBe(keyId);
    await expect(authenticateApiKey(`Bearer ${key}`, t0 + KEY_CACHE_MS + 1)).rejects.toMatchObject({ code: "forbidden" });
    // A wrong secret with a cached prefix is still refused.
    await expect(authenticateApiKey(`Bearer ${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`, t0)).rejects.toMatchObject({ code: "unauthorized" });

    // Revoked in this process (the API keys page): refused on the very next request.
    const second = await keyForNewTeam();
    expect((await post(second.key, { title: "before" })).status).toBe(202);
    await revokeApiKey(second.owner, second.keyId);
    expect((await post(second.key, { title: "after" })).status).toBe(403);
  });

  it("a checked key is checked again in the background in its last second, so a revocation elsewhere can land before it expires", async () => {
    const { key, keyId } = await keyForNewTeam();
    const t0 = Date.now();
    expect((await authenticateApiKey(`Bearer ${key}`, t0)).id).toBe(keyId);
    await db.apiKey.update({ where: { id: keyId }, data: { revokedAt: new Date() } });
    // Still trusted in its last second, without waiting: the check runs behind the answer.
    const late = t0 + KEY_CACHE_MS - 500;
    expect((await authenticateApiKey(`Bearer ${key}`, late)).id).toBe(keyId);
    let refused = false;
    for (let tries = 0; tries < 250 && !refused; tries++) {
      refused = await authenticateApiKey(`Bearer ${key}`, late).then(
        () => false,
        (error: unknown) => (error as { code?: string }).code === "forbidden",
      );
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(refused).toBe(true);
  });

  it("a key check that was on the wire when this process revoked the key is not trusted afterwards", async () => {
    const { key, keyId } = await keyForNewTeam();
    await withKeyRowHeld(keyId, async (holder) => {
      const onTheWire = authenticateApiKey(`Bearer ${key}`);
      for (let waited = 0; (await waitingKeyWrites()) === 0; waited += 20) {
        if (waited > 10_000) throw new Error("the key check never reached its write");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // Revoked meanwhile, and this process told (as revokeApiKey does).
      await holder.query(`UPDATE "ApiKey" SET "revokedAt" = now() WHERE id = $1`, [keyId]);
      await holder.query("COMMIT");
      forgetCheckedKey(keyId);
      // It started before the revocation, so it may pass; what it read must not be cached.
      expect((await onTheWire).id).toBe(keyId);
    });
    await expect(authenticateApiKey(`Bearer ${key}`)).rejects.toMatchObject({ code: "forbidden" });
  });

  it("requests arriving together with an unchecked key share one check: one lookup, one 'last used' write", async () => {
    const { key, keyId } = await keyForNewTeam();
    let answers: Promise<{ id: string }[]> | undefined;
    await withKeyRowHeld(keyId, async (holder) => {
      answers = Promise.all(Array.from({ length: 5 }, () => authenticateApiKey(`Bearer ${key}`)));
      // Each of the five had its own check before: five writes waited here within milliseconds.
      let most = 0;
      for (let polls = 0; polls < 25; polls++) {
        most = Math.max(most, await waitingKeyWrites());
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(most).toBe(1);
      await holder.query("COMMIT");
    });
    expect((await answers!).map((answer) => answer.id)).toEqual(Array(5).fill(keyId));
    // A wrong secret with the same prefix, arriving with the right one, is refused all the same.
    const forged = `${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`;
    forgetCheckedKey(keyId);
    const mixed = await Promise.allSettled([authenticateApiKey(`Bearer ${forged}`), authenticateApiKey(`Bearer ${key}`)]);
    expect(mixed.map((m) => m.status)).toEqual(["rejected", "fulfilled"]);
  });
});
