// `npm run worker`: the dispatch worker on its own. `npm run dev` / `npm start` run it
// alongside the app. Without DATABASE_URL it joins the embedded database of `npm run dev`.
import { parseServerEnv } from "../lib/env";
import { applyDestinationDefaults, applyLocalDefaults, loadOrCreateLocalSecrets, localDatabaseUrl } from "./lib/local-config";

if (!process.env.DATABASE_URL) {
  const secrets = loadOrCreateLocalSecrets();
  applyLocalDefaults(process.env, secrets, localDatabaseUrl(secrets));
}
// Started by `npm start`, the variables are already settled; on its own, the mode decides.
applyDestinationDefaults(process.env, process.env.NODE_ENV === "production");
const env = parseServerEnv(process.env);
// Imported after the environment is complete: the database client reads DATABASE_URL.
const { runWorker } = await import("../lib/webhooks/worker");

const controller = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => controller.abort());
}
await runWorker(
  {
    databaseUrl: env.DATABASE_URL,
    retentionDays: env.MON1TOR_RETENTION_DAYS,
    timeoutMs: env.MON1TOR_DELIVERY_TIMEOUT_MS,
  },
  controller.signal,
);
process.exit(0);
