// Local (embedded) mode: no DATABASE_URL, so mon1tor runs its own PostgreSQL and keeps
// the secrets it needs under the data folder, generated on first run.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "./embedded-postgres";

export const dataDir = path.resolve(process.env.MON1TOR_DATA_DIR ?? ".data");
export const embeddedPort = () => Number(process.env.MON1TOR_PG_PORT ?? 54329);
export const embeddedDatabaseName = "mon1tor";

type LocalSecrets = {
  NEXTAUTH_SECRET: string;
  CRON_SECRET: string;
  MON1TOR_ENCRYPTION_KEY: string;
  postgresPassword: string;
};

export function loadOrCreateLocalSecrets(): LocalSecrets {
  const file = path.join(dataDir, "secrets.json");
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as LocalSecrets;
  const secrets: LocalSecrets = {
    NEXTAUTH_SECRET: crypto.randomBytes(32).toString("base64"),
    CRON_SECRET: crypto.randomBytes(32).toString("base64url"),
    MON1TOR_ENCRYPTION_KEY: crypto.randomBytes(32).toString("base64"),
    postgresPassword: crypto.randomBytes(18).toString("base64url"),
  };
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/** Fills what local mode provides; variables already set always win. */
export function applyLocalDefaults(env: Record<string, string | undefined>, secrets: LocalSecrets, databaseUrl: string) {
  env.DATABASE_URL ??= databaseUrl;
  env.NEXTAUTH_SECRET ??= secrets.NEXTAUTH_SECRET;
  env.CRON_SECRET ??= secrets.CRON_SECRET;
  env.MON1TOR_ENCRYPTION_KEY ??= secrets.MON1TOR_ENCRYPTION_KEY;
}

const RISKY_IN_PRODUCTION = {
  MON1TOR_ALLOW_PRIVATE_URLS: "webhooks may reach private, loopback and link-local addresses (169.254.169.254, your internal services)",
  MON1TOR_ALLOW_HTTP_URLS: "webhooks may be sent over plain http://",
} as const;

/**
 * Where webhooks may go, by mode and nothing else: `npm run dev` allows http:// and private
 * destinations (local receivers live on 127.0.0.1); production (`npm start`) allows neither
 * unless the operator sets them, whatever the database. Returns one warning line per risky
 * setting an operator turned on in production.
 */
export function applyDestinationDefaults(env: Record<string, string | undefined>, production: boolean): string[] {
  if (!production) {
    env.MON1TOR_ALLOW_PRIVATE_URLS ??= "true";
    env.MON1TOR_ALLOW_HTTP_URLS ??= "true";
    return [];
  }
  return Object.entries(RISKY_IN_PRODUCTION)
    .filter(([name]) => env[name] === "true" || env[name] === "1")
    .map(([name, risk]) => `[mon1tor] warning: ${name} is on in production: ${risk}.`);
}

export function localDatabaseUrl(secrets: LocalSecrets) {
  return `postgresql://postgres:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${embeddedPort()}/${embeddedDatabaseName}`;
}

export async function startLocalDatabase(log: (line: string) => void): Promise<EmbeddedDatabase> {
  const secrets = loadOrCreateLocalSecrets();
  const database = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, "postgres"),
    port: embeddedPort(),
    password: secrets.postgresPassword,
    log,
  });
  await database.createDatabase(embeddedDatabaseName);
  return database;
}

export function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited with ${code}`)),
    );
  });
}

export function migrate(env: NodeJS.ProcessEnv) {
  return run(path.resolve("node_modules/.bin/prisma"), ["migrate", "deploy"], env);
}
