// Relay endpoints: what `mon1tor listen` connects to. A relay is a WebhookEndpoint of kind
// "relay", found by (team, name). It is active exactly while a CLI holds its stream: the
// connected, authenticated CLI is the proof of ownership, so there is no token validation.
// When the CLI goes, the relay stays active but the claim skips it: its deliveries (and those
// of alerts that arrive meanwhile) wait RELAY_RECONNECT_WINDOW_MS for a CLI to come back, then
// expire (expireStaleDeliveries).
// A relay nobody connected for RELAY_REMOVE_AFTER_MS is removed.
import type pg from "pg";
import { audit } from "@/lib/audit";
import type { AuthenticatedKey } from "@/lib/api-keys/keys";
import { decrypt, encrypt } from "@/lib/crypto/encryption";
import { randomId } from "@/lib/crypto/tokens";
import { db, DB_NOW, dbNow } from "@/lib/db";
import { env } from "@/lib/env";
import { AppError, isUniqueViolation } from "@/lib/errors";
import { describeFilter, filterSchema, type EndpointFilter } from "@/lib/webhooks/endpoints/filters";
import { unparkQueued } from "@/lib/webhooks/delivery/backlog";
import { generateSecret } from "@/lib/webhooks/endpoints/secret";
import { RELAY_REMOVE_AFTER_MS, relayUrl, type relayHelloSchema } from "@/lib/relay/protocol";
import type { z } from "zod";

/** A stream not renewed for this long has lost its holder (a web process that died). */
const RELAY_STALE_MS = 30_000;

export type ConnectedRelay = {
  id: string;
  name: string;
  streamId: string;
  secret: string;
  filter: string;
  /** Deliveries that waited for a CLI to connect: to send now. */
  waiting: string[];
};

/** The relay's filter from the CLI's options: each list given replaces that filter, none means all. */
function relayFilter(hello: z.output<typeof relayHelloSchema>): EndpointFilter {
  const pick = <K extends keyof EndpointFilter>(key: K, parsed: { success: boolean; data?: string[]; error?: { issues: { message: string }[] } }) => {
    if (!parsed.success) {
      const message = `Invalid ${key}: ${parsed.error!.issues[0]!.message}`;
      throw new AppError("validation", message, { [key]: [message] });
    }
    return parsed.data!;
  };
  return {
    eventTypes: hello.eventTypes?.length ? pick("eventTypes", filterSchema.shape.eventTypes.safeParse(hello.eventTypes)) : [],
    severities: hello.severities?.length ? pick("severities", filterSchema.shape.severities.safeParse(hello.severities)) : [],
    monitorIds: [...new Set(hello.monitorIds ?? [])],
  };
}

/**
 * Opens (or reopens) the team's relay of this name for a new stream. Refused while another CLI
 * holds it: two would each take half the deliveries.
 */
export async function connectRelay(apiKey: AuthenticatedKey, hello: z.output<typeof relayHelloSchema>, ip: string | null): Promise<ConnectedRelay> {
  const teamId = apiKey.team.id;
  const filter = relayFilter(hello);
  const streamId = randomId("rs");
  const url = relayUrl(hello.name);
  const max = env().MON1TOR_MAX_ENDPOINTS_PER_TEAM;
  const actor = { team: apiKey.team, user: { id: null, email: `API key ${apiKey.name}` }, ip };
  try {
    return await db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM "Team" WHERE id = ${teamId} FOR UPDATE`;
      const existing = await tx.webhookEndpoint.findFirst({ where: { teamId, url } });
      if (existing && existing.kind !== "relay") throw new AppError("conflict", `This team has an endpoint at ${url} that is not a relay.`);
      const now = new Date();
      if (existing?.relayStreamId && existing.status === "active" && existing.relaySeenAt && now.getTime() - existing.relaySeenAt.getTime() < RELAY_STALE_MS) {
        throw new AppError("conflict", `A mon1tor listen named “${hello.name}” is already connected to this team. Stop it, or pass --name to run another.`);
      }
      if (!existing && (await tx.webhookEndpoint.count({ where: { teamId } })) >= max) {
        throw new AppError("conflict", `This team has reached its limit of ${max} webhook endpoints. Delete one to add a relay.`);
      }
      const live = {
        status: "active" as const,
        statusReason: null,
        relayStreamId: streamId,
        relaySeenAt: now,
        inactiveSince: null,
        pausedAt: null,
        consecutiveFailures: 0,
        failingSince: null,
        ...filter,
      };
      const endpoint = existing
        ? await tx.webhookEndpoint.update({
            where: { id: existing.id },
            data: { ...live, ...(hello.secret ? { secretCiphertext: encrypt(hello.secret), previousSecretCiphertext: null, previousSecretExpiresAt: null } : {}) },
          })
        : await tx.webhookEndpoint.create({
            data: {
              ...live,
              teamId,
              url,
              kind: "relay",
              relayName: hello.name,
              description: "mon1tor listen (CLI relay)",
              secretCiphertext: encrypt(hello.secret ?? generateSecret()),
              activatedAt: now,
              // Never validated by token, so never re-validated either.
              revalidateDaily: false,
            },
          });
      if (existing) await unparkQueued(tx, endpoint.id);
      await audit(tx, actor, "relay.connect", { type: "endpoint", id: endpoint.id }, { name: hello.name, created: !existing, secretPinned: Boolean(hello.secret) });
      const waiting = existing
        ? (await tx.delivery.findMany({ where: { endpointId: endpoint.id, nextAttemptAt: { not: null } }, select: { id: true }, take: 1_000 })).map((d) => d.id)
        : [];
      return { id: endpoint.id, name: hello.name, streamId, secret: decrypt(endpoint.secretCiphertext), filter: describeFilter(filter), waiting };
    });
  } catch (error) {
    // Two CLIs creating the same name at once: the second sees the first's row next time.
    if (isUniqueViolation(error)) throw new AppError("conflict", `A mon1tor listen named “${hello.name}” is connecting to this team right now. Pass --name to run another.`);
    throw error;
  }
}

/**
 * The stream `streamId` ended: unless another has taken the relay since, it stops receiving.
 * Its deliveries stay queued (the claim skips a relay no stream holds) for
 * RELAY_RECONNECT_WINDOW_MS, then expire (lib/webhooks/delivery/backlog.ts). What was handed to this
 * stream and not answered yet is handed again to the next one.
 */
export async function disconnectRelay(pool: pg.Pool, endpointId: string, streamId: string) {
  await pool.query(
    `WITH ended AS (
       UPDATE "WebhookEndpoint" SET "relayStreamId" = NULL, "inactiveSince" = COALESCE("inactiveSince", ${DB_NOW}),
         "updatedAt" = ${DB_NOW}
       WHERE id = $1 AND "relayStreamId" = $2
       RETURNING id
     )
     UPDATE "RelayRequest" SET "pushedAt" = NULL WHERE "endpointId" IN (SELECT id FROM ended) AND "answeredAt" IS NULL`,
    [endpointId, streamId],
  );
}

/** Renews the streams this process holds; returns the endpoints of those it no longer holds (taken over or deleted). */
export async function renewStreams(pool: pg.Pool, held: ReadonlyMap<string, string>): Promise<string[]> {
  if (held.size === 0) return [];
  const { rows } = await pool.query<{ id: string }>(
    `UPDATE "WebhookEndpoint" e SET "relaySeenAt" = ${DB_NOW}
     FROM unnest($1::text[], $2::text[]) AS h(id, stream)
     WHERE e.id = h.id AND e."relayStreamId" = h.stream
     RETURNING e.id`,
    [[...held.keys()], [...held.values()]],
  );
  const renewed = new Set(rows.map((row) => row.id));
  return [...held.keys()].filter((id) => !renewed.has(id));
}

/** Relays whose stream's holder stopped renewing it (its process died): disconnected. */
export async function disconnectStaleRelays(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ id: string; relayStreamId: string }>(
    `SELECT id, "relayStreamId" FROM "WebhookEndpoint"
     WHERE kind = 'relay' AND "relayStreamId" IS NOT NULL AND "relaySeenAt" < ${DB_NOW} - make_interval(secs => $1::double precision / 1000)`,
    [RELAY_STALE_MS],
  );
  for (const row of rows) await disconnectRelay(pool, row.id, row.relayStreamId);
  return rows.length;
}

/** Relays nobody has connected for RELAY_REMOVE_AFTER_MS, removed with their history. */
export async function removeAbandonedRelays(pool: pg.Pool, now: Date | null = null): Promise<number> {
  const result = await pool.query(
    `DELETE FROM "WebhookEndpoint"
     WHERE kind = 'relay' AND "relayStreamId" IS NULL
       AND COALESCE("relaySeenAt", "updatedAt") < ${dbNow(1)} - make_interval(secs => $2::double precision / 1000)`,
    [now?.toISOString() ?? null, RELAY_REMOVE_AFTER_MS],
  );
  return result.rowCount ?? 0;
}
