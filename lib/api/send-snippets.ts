// How to send alerts, as the API keys page shows it: one alert and a batch with curl, and an
// Alertmanager configuration. The end-to-end tests run exactly what the page shows (curl against
// the app, the configuration in a real Alertmanager), so these cannot drift from the API.
// The key is never in them: curl reads it from MON1TOR_API_KEY (not in the shell's history), and
// the Alertmanager configuration has a placeholder to replace.

/** What to replace in the Alertmanager configuration with the API key. */
export const API_KEY_PLACEHOLDER = "<your API key>";

export function sendSnippets(baseUrl: string) {
  const curl = (path: string, body: string) =>
    [
      `curl -sS -X POST ${baseUrl}${path} \\`,
      `  -H "Authorization: Bearer $MON1TOR_API_KEY" \\`,
      `  -H "Content-Type: application/json" \\`,
      `  -d '${body}'`,
    ].join("\n");
  return {
    one: curl("/api/v1/alerts", `{"title": "Disk 95% full on db-1", "severity": "critical", "dedupKey": "disk-db-1"}`),
    batch: curl(
      "/api/v1/alerts/batch",
      [
        `{"alerts": [`,
        `    {"title": "CPU above 90% on web-1", "severity": "warning"},`,
        `    {"title": "Disk 95% full on db-1", "status": "resolved", "dedupKey": "disk-db-1"}`,
        `  ]}`,
      ].join("\n"),
    ),
    alertmanager: [
      "route:",
      "  receiver: mon1tor",
      "receivers:",
      "  - name: mon1tor",
      "    webhook_configs:",
      `      - url: ${baseUrl}/api/v1/integrations/alertmanager`,
      "        send_resolved: true",
      "        max_alerts: 1000",
      "        http_config:",
      "          authorization:",
      "            type: Bearer",
      `            credentials: "${API_KEY_PLACEHOLDER}"`,
    ].join("\n"),
  };
}
