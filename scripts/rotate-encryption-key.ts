// `npm run rotate-key`: re-encrypts every webhook secret under MON1TOR_ENCRYPTION_KEY.
// Set the new key as MON1TOR_ENCRYPTION_KEY and the old one in MON1TOR_ENCRYPTION_KEYS_PREVIOUS,
// restart the app with both, run this, then drop the old key.
import { parseServerEnv } from "../lib/env";
import { applyLocalDefaults, loadOrCreateLocalSecrets, localDatabaseUrl } from "./lib/local-config";

if (!process.env.DATABASE_URL) {
  const secrets = loadOrCreateLocalSecrets();
  applyLocalDefaults(process.env, secrets, localDatabaseUrl(secrets));
}
const env = parseServerEnv(process.env);
const { keyRing } = await import("../lib/crypto/encryption");
const { rotateSecrets } = await import("../lib/crypto/rotate");
const { db } = await import("../lib/db");

const ring = keyRing(env.MON1TOR_ENCRYPTION_KEY, env.MON1TOR_ENCRYPTION_KEYS_PREVIOUS);
const result = await rotateSecrets(db, ring);
console.log(`re-encrypted ${result.rotated} webhook secrets under key ${ring.current.id}; ${result.unchanged} were already under it`);
await db.$disconnect();
