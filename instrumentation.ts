// Runs once when a Next.js server starts: a bad environment stops it with a clear message
// instead of failing on the first request, and the database connections are opened.
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { env } = await import("./lib/env");
    env();
    // OpenTelemetry, only when OTEL_EXPORTER_OTLP_ENDPOINT is set (lib/telemetry/tracing.ts).
    const { startTracing } = await import("./lib/telemetry/tracing");
    await startTracing("mon1tor-web");
    // Run by `npm start` (scripts/start.ts), which talks to us over IPC: if it is gone, even by
    // SIGKILL, stop as on SIGTERM (Next closes the server, finishing the requests it holds).
    if (process.send) process.once("disconnect", () => process.kill(process.pid, "SIGTERM"));
    const { closeConnectionsOnShutdown } = await import("./lib/web-shutdown");
    closeConnectionsOnShutdown();
    // Alert calls past what this process can take are refused before Next sees them
    // (lib/alerts/admission.ts), and in production the others are served there too, by the same
    // route handlers, without Next's millisecond per request (lib/api/front.ts). The dev server
    // leaves them to Next, whose reloads then pick up edits to the handlers.
    const { admitAlertCallsInFront } = await import("./lib/alerts/admission");
    if (process.env.NODE_ENV === "production") {
      const [alerts, batch, alertmanager] = await Promise.all([
        import("./app/api/v1/alerts/route"),
        import("./app/api/v1/alerts/batch/route"),
        import("./app/api/v1/integrations/alertmanager/route"),
      ]);
      admitAlertCallsInFront(undefined, { api: alerts.POST, batch: batch.POST, alertmanager: alertmanager.POST });
    } else {
      admitAlertCallsInFront();
    }
    // In the background: the server answers at once, and its first storm finds its connections open.
    const { ingestPool, pool, warmPool } = await import("./lib/db");
    const { warmKeyLookup } = await import("./lib/api-keys/keys");
    void warmPool(pool).then(warmKeyLookup).catch(() => {});
    void warmPool(ingestPool());
    // The history's days ahead, as housekeeping makes them: a deployment whose worker or cron
    // stopped for days still finds today's partition when its web server starts again.
    const { ensureHistoryPartitions } = await import("./lib/webhooks/delivery/retention");
    void ensureHistoryPartitions(pool).catch(() => {});
  }
}
