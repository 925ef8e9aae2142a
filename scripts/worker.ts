// `npm run worker`: the dispatch worker on its own. `npm run dev` / `npm start` run it
// alongside the app. Without DATABASE_URL it joins the embedded database of `npm run dev`.
import { parseServerEnv } from "../lib/env";
import { onShutdown } from "./lib/shutdown";
import { applyDestinationDefaults, applyLocalDefaults, loadOrCreateLocalSecrets, localDatabaseUrl } from "./lib/local-config";

if (!process.env.DATABASE_URL) {
  const secrets = loadOrCreateLocalSecrets();
  applyLocalDefaults(process.env, secrets, localDatabaseUrl(secrets));
}
// Started by `npm start`, the variables are already settled; on its own, the mode decides.
applyDestinationDefaults(process.env, process.env.NODE_ENV === "production");
const env = parseServerEnv(process.env);
// Imported after the environment is complete: the database client reads DATABASE_URL.
const { runWorker } = await import("../lib/webhooks/delivery/worker");
const { startMetricsServer } = await import("../lib/metrics/serve");
const { startTracing } = await import("../lib/telemetry/tracing");
// OpenTelemetry, only when OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed before exit.
const stopTracing = await startTracing("mon1tor-worker");
// Prometheus metrics and health probes on their own port, when the operator asks for them.
const metricsServer = env.MON1TOR_METRICS_PORT ? startMetricsServer(env.MON1TOR_METRICS_PORT, (line) => console.log(`[worker] ${line}`)) : null;

const controller = new AbortController();
// In-flight attempts finish or time out (MON1TOR_DELIVERY_TIMEOUT_MS), then their outcomes are
// written, retried for up to RECORD_GRACE_MS while the database is away.
const RECORD_GRACE_MS = 5_000;
const shutdownMs = env.MON1TOR_DELIVERY_TIMEOUT_MS + RECORD_GRACE_MS;
onShutdown({
  timeoutMs: shutdownMs + 1_000,
  graceful(signal) {
    console.log(`[worker] ${signal}: no more claims; finishing the attempts in flight (exits within ${shutdownMs / 1000} s)`);
    controller.abort();
  },
  immediate(reason) {
    // What was claimed and not recorded stays leased: another worker sends it once the lease ends.
    console.error(`[worker] ${reason}: exiting now; unrecorded attempts are sent again when their lease ends`);
    process.exit(1);
  },
});
await runWorker(
  {
    databaseUrl: env.DATABASE_URL,
    retentionDays: env.MON1TOR_RETENTION_DAYS,
    timeoutMs: env.MON1TOR_DELIVERY_TIMEOUT_MS,
    recordGraceMs: RECORD_GRACE_MS,
  },
  controller.signal,
);
metricsServer?.close();
await stopTracing?.().catch(() => {});
process.exit(0);
