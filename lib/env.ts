// The one place that reads configuration. Validated once; a bad value stops the start
// with a message that names the variable.
import { z } from "zod";
import { parseTrustedProxies } from "./auth/client-ip";

const bool = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");

/** Like `bool`, but on unless set to "false" or "0". */
const boolOn = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v !== "false" && v !== "0");

const base64Key = z
  .string()
  .refine((v) => Buffer.from(v, "base64").length === 32, "must be 32 bytes, base64-encoded (openssl rand -base64 32)");

const databaseUrlSchema = z.string().regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL");

export const serverEnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: databaseUrlSchema,
  NEXTAUTH_SECRET: z.string().min(32, "must be at least 32 characters (openssl rand -base64 32)"),
  NEXTAUTH_URL: z.url().optional(),
  CRON_SECRET: z.string().min(24, "must be at least 24 characters (openssl rand -base64 32)"),
  MON1TOR_ENCRYPTION_KEY: base64Key,
  /** Keys that older rows may still be encrypted with, during a rotation; comma-separated. */
  MON1TOR_ENCRYPTION_KEYS_PREVIOUS: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(",").map((k) => k.trim()).filter(Boolean) : []))
    .pipe(z.array(base64Key)),
  /** Proxies in front of the app: a hop count or CIDRs (lib/auth/client-ip.ts). Unset: client IPs are unknown. */
  MON1TOR_TRUSTED_PROXIES: z.string().optional().transform((value, context) => {
    try {
      return parseTrustedProxies(value);
    } catch (error) {
      context.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  }),
  MON1TOR_SIGNUP: z.enum(["open", "invite-only"]).default("open"),
  MON1TOR_ALLOW_PRIVATE_URLS: bool,
  MON1TOR_ALLOW_HTTP_URLS: bool,
  MON1TOR_ALLOWED_CIDRS: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(",").map((c) => c.trim()).filter(Boolean) : [])),
  /** A PEM file of extra CAs trusted for https endpoints (private CAs); verification stays on. */
  MON1TOR_EXTRA_CA_CERTS: z.string().optional().or(z.literal("").transform(() => undefined)),
  MON1TOR_MAX_ENDPOINTS_PER_TEAM: z.coerce.number().int().positive().default(50),
  MON1TOR_DELIVERY_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  MON1TOR_RETENTION_DAYS: z.coerce.number().int().positive().default(30),
  /** Consecutive failed deliveries at which owners and admins are told; comma-separated. */
  MON1TOR_FAILURE_NOTIFY_AT: z
    .string()
    .default("5,10,15")
    .transform((v) => v.split(",").map((n) => n.trim()).filter(Boolean).map(Number))
    .pipe(z.array(z.number().int().positive()).max(10)),
  /** Alert API requests per minute per key: an alert storm is 1,000 a second, so the default allows 2,000. */
  MON1TOR_API_KEY_RATE_PER_MINUTE: z.coerce.number().int().positive().default(120_000),
  /**
   * The event as the queue (lib/webhooks/delivery/event-queue.ts): a new alert's deliveries to
   * endpoints with room are written once, finished, instead of queued, claimed and recorded. On;
   * "false" queues a row per delivery, as before.
   */
  MON1TOR_EVENT_QUEUE: boolOn,
  /** Deliveries per minute to an endpoint that has not confirmed ownership (echoed the token). */
  MON1TOR_UNCONFIRMED_RATE_PER_MINUTE: z.coerce.number().int().positive().default(5000),
  MON1TOR_FAILURE_DISABLE_AFTER: z.coerce.number().int().positive().default(20),
  MON1TOR_FAILURE_DISABLE_DAYS: z.coerce.number().positive().default(5),
  /** smtp:// or smtps:// URL for notification emails; unset means in-app notifications only. */
  MON1TOR_SMTP_URL: z.string().regex(/^smtps?:\/\//, "must be an smtp:// or smtps:// URL").optional().or(z.literal("").transform(() => undefined)),
  MON1TOR_SMTP_FROM: z.string().default("mon1tor <notifications@mon1tor.localhost>"),
  /** Prometheus scrapes send Authorization: Bearer <this>. Unset: metrics answer 401, unless MON1TOR_METRICS_PUBLIC. */
  MON1TOR_METRICS_TOKEN: z.string().min(16, "must be at least 16 characters (openssl rand -base64 24)").optional().or(z.literal("").transform(() => undefined)),
  /** Serve metrics without a token (a scrape network the operator trusts). */
  MON1TOR_METRICS_PUBLIC: bool,
  /** The worker's port for /metrics and /api/health/*; unset: the worker serves none. */
  MON1TOR_METRICS_PORT: z.coerce.number().int().min(1).max(65_535).optional().or(z.literal("").transform(() => undefined)),
});

export type ServerEnv = z.infer<typeof serverEnvSchema>;

export class EnvError extends Error {}

export function parseServerEnv(source: Record<string, string | undefined>): ServerEnv {
  const result = serverEnvSchema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = issue.path.join(".");
      const message = source[name] === undefined ? "is missing" : issue.message;
      return `  - ${name} ${message}`;
    });
    throw new EnvError(`mon1tor cannot start; fix these environment variables (see .env.example):\n${lines.join("\n")}`);
  }
  return result.data;
}

let cached: ServerEnv | undefined;

/** Lazily parsed so that `next build` does not need runtime secrets. */
export function env(): ServerEnv {
  cached ??= parseServerEnv(process.env);
  return cached;
}

/** Production means a real deployment: HTTPS-only webhooks unless explicitly allowed. */
export const isProduction = () => env().NODE_ENV === "production";

/**
 * DATABASE_URL, for the pools of lib/db.ts. Read on its own (not through env()): every process
 * makes its pool when it imports lib/db.ts, `next build` included, where nothing is set and no
 * query runs. A value that is set is validated as env() does.
 */
export function databaseUrl(): string | undefined {
  const value = process.env.DATABASE_URL;
  if (!value) return undefined;
  const parsed = databaseUrlSchema.safeParse(value);
  if (!parsed.success) throw new Error(`Invalid environment: DATABASE_URL ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

/**
 * The dashboard's public URL, for links in payloads, emails and page metadata. Read on its
 * own (not through env()) because page metadata is built by `next build`, where the secrets
 * env() requires are absent; validated as a URL all the same.
 */
export function publicUrl(): string {
  const parsed = z.url().safeParse(process.env.NEXTAUTH_URL);
  return (parsed.success ? parsed.data : "http://localhost:3000").replace(/\/+$/, "");
}
