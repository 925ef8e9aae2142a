import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { decrypt, DecryptionError, encrypt, keyIdOf, keyRing } from "@/lib/crypto/encryption";
import { rotateSecrets } from "@/lib/crypto/rotate";
import { db } from "@/lib/db";
import { createTeam } from "@/lib/testing/factories";
import { generateSecret } from "@/lib/webhooks/endpoints/secret";

const newKey = () => crypto.randomBytes(32).toString("base64");

describe("secrets at rest (AES-256-GCM)", () => {
  it("round-trips, with a fresh IV each time", () => {
    const ring = keyRing(newKey());
    const secret = generateSecret();
    const a = encrypt(secret, ring);
    const b = encrypt(secret, ring);
    expect(a).not.toBe(b);
    expect(a).not.toContain(secret.slice(6));
    expect(decrypt(a, ring)).toBe(secret);
    expect(keyIdOf(a)).toBe(ring.current.id);
  });

  it("refuses an altered ciphertext, tag or key id", () => {
    const ring = keyRing(newKey());
    const sealed = encrypt("whsec_value", ring);
    const [v, kid, iv, body, tag] = sealed.split(".");
    const flip = (s: string) => {
      const bytes = Buffer.from(s, "base64url");
      bytes[0]! ^= 1;
      return bytes.toString("base64url");
    };
    expect(() => decrypt([v, kid, iv, flip(body!), tag].join("."), ring)).toThrow(DecryptionError);
    expect(() => decrypt([v, kid, iv, body, flip(tag!)].join("."), ring)).toThrow(DecryptionError);
    expect(() => decrypt([v, kid, flip(iv!), body, tag].join("."), ring)).toThrow(DecryptionError);
    expect(() => decrypt([v, "deadbeef", iv, body, tag].join("."), ring)).toThrow(/No configured encryption key/);
    expect(() => decrypt(sealed, keyRing(newKey()))).toThrow(DecryptionError);
  });

  it("rotates every row to a new key, keeping the secrets, and is safe to re-run", async () => {
    const oldKey = newKey();
    const oldRing = keyRing(oldKey);
    const team = await createTeam();
    const secrets = [generateSecret(), generateSecret(), generateSecret()];
    for (const [i, secret] of secrets.entries()) {
      await db.webhookEndpoint.create({ data: { teamId: team.id, url: `https://example.com/rot/${i}`, secretCiphertext: encrypt(secret, oldRing) } });
    }
    const newRing = keyRing(newKey(), [oldKey]);
    const first = await rotateSecrets(db, newRing);
    expect(first.rotated).toBeGreaterThanOrEqual(3);
    const rows = await db.webhookEndpoint.findMany({ where: { teamId: team.id }, orderBy: { url: "asc" } });
    expect(rows.map((row) => keyIdOf(row.secretCiphertext))).toEqual([newRing.current.id, newRing.current.id, newRing.current.id]);
    expect(rows.map((row) => decrypt(row.secretCiphertext, keyRing(newRing.current.bytes.toString("base64"))))).toEqual(secrets);
    expect((await rotateSecrets(db, newRing)).rotated).toBe(0);

    // The plain secret is nowhere in the table.
    const found = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM "WebhookEndpoint" WHERE "secretCiphertext" LIKE ${`%${secrets[0]!.slice(6, 26)}%`}`;
    expect(found[0]!.n).toBe(0);
  });
});
