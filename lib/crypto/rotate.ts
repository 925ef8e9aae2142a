import { decrypt, encrypt, keyIdOf, type KeyRing } from "@/lib/crypto/encryption";
import type { Db } from "@/lib/db";

/**
 * Re-encrypts every webhook secret under the ring's current key. Rows already under it
 * are skipped, so the rotation can be re-run after an interruption.
 */
export async function rotateSecrets(db: Db, ring: KeyRing): Promise<{ rotated: number; unchanged: number }> {
  let rotated = 0;
  let unchanged = 0;
  let cursor: string | undefined;
  for (;;) {
    const rows = await db.webhookEndpoint.findMany({
      select: { id: true, secretCiphertext: true },
      orderBy: { id: "asc" },
      take: 500,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
    });
    if (rows.length === 0) break;
    for (const row of rows) {
      if (keyIdOf(row.secretCiphertext) === ring.current.id) {
        unchanged += 1;
        continue;
      }
      const next = encrypt(decrypt(row.secretCiphertext, ring), ring);
      // Only if nobody changed it meanwhile.
      const updated = await db.webhookEndpoint.updateMany({ where: { id: row.id, secretCiphertext: row.secretCiphertext }, data: { secretCiphertext: next } });
      rotated += updated.count;
    }
    cursor = rows.at(-1)!.id;
  }
  return { rotated, unchanged };
}
