// The environment every test process gets: fixed, throwaway secrets and the policy
// switches that let receivers on 127.0.0.1 take part.
export const TEMPLATE_DATABASE = "mon1tor_template";

export function testEnvironment(adminUrl: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NEXT_TELEMETRY_DISABLED: "1",
    TEST_PG_ADMIN_URL: adminUrl,
    NEXTAUTH_SECRET: "test-nextauth-secret-0123456789abcdefghijklmnop",
    NEXTAUTH_URL: "http://localhost:3100",
    CRON_SECRET: "test-cron-secret-0123456789abcdefghij",
    MON1TOR_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
    MON1TOR_ALLOW_PRIVATE_URLS: "true",
    MON1TOR_ALLOW_HTTP_URLS: "true",
    MON1TOR_METRICS_TOKEN: "test-metrics-token-0123456789",
    // Per team, so that a test reads its own team's series among the others running beside it.
    MON1TOR_METRICS_TEAM_LABEL: "true",
    MON1TOR_METRICS_TEAM_LABEL_LIMIT: "1000",
  };
}

/** The variables `npm start` needs and `npm run build` must not: a release is built without them. */
const RUNTIME_SECRETS = ["DATABASE_URL", "NEXTAUTH_SECRET", "CRON_SECRET", "MON1TOR_ENCRYPTION_KEY", "MON1TOR_ENCRYPTION_KEYS_PREVIOUS"];

export function withoutRuntimeSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const build = { ...env };
  for (const name of RUNTIME_SECRETS) delete build[name];
  return build;
}
