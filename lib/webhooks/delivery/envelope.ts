import { z } from "zod";
import { timeOrderedId } from "@/lib/crypto/tokens";
import { publicUrl } from "@/lib/env";

export const API_VERSION = "2026-11-01";

export const eventTypes = ["alert.triggered", "alert.resolved", "webhook.test"] as const;
export type EventType = (typeof eventTypes)[number];

// What receivers get. The one description of the payload: its TypeScript type and the
// OpenAPI `webhooks` section (lib/api/openapi.ts) both come from these schemas.
export const alertPayloadSchema = z.object({
  id: z.string(),
  title: z.string(),
  severity: z.enum(["critical", "warning", "info"]),
  status: z.enum(["triggered", "resolved"]),
  message: z.string().nullable(),
  monitor: z.object({ id: z.string().nullable(), name: z.string().nullable() }),
  startedAt: z.iso.datetime(),
  resolvedAt: z.iso.datetime().nullable(),
  url: z.url(),
  sequence: z.number().int().min(1).describe("1 for the alert's first event, then 2, 3…: drop anything older than what you have seen."),
  previousEventId: z.string().nullable().describe("The id of this alert's previous event, or null for its first."),
});
export type AlertPayload = z.infer<typeof alertPayloadSchema>;

export const envelopeSchema = z.object({
  id: z.string().describe("The event id, the same for every endpoint and every retry."),
  type: z.enum(eventTypes),
  apiVersion: z.literal(API_VERSION),
  createdAt: z.iso.datetime(),
  team: z.object({ id: z.string(), name: z.string() }),
  data: z.object({ alert: alertPayloadSchema }),
});

export const newEventId = () => timeOrderedId("evt");
export const newDeliveryId = () => timeOrderedId("msg");
/**
 * newDeliveryId() in SQL, for statements that make deliveries themselves (the alert API's
 * one-statement ingest, replay): msg_, the statement's time in base 36 (idTime; one subquery
 * per statement, not per row) and 6 random bytes from gen_random_uuid() (built into PostgreSQL 13
 * and later, no extension) in base64url.
 */
export const NEW_DELIVERY_ID_SQL = `('msg_' || (SELECT string_agg(substr('0123456789abcdefghijklmnopqrstuvwxyz', (m.ms / power(36, k)::bigint % 36)::int + 1, 1), '' ORDER BY k DESC)
                FROM (SELECT (extract(epoch FROM now()) * 1000)::bigint AS ms) m, generate_series(0, 7) AS k)
          || translate(encode(substring(uuid_send(gen_random_uuid()) FROM 1 FOR 6), 'base64'), '+/', '-_'))`;

export const dashboardUrl = (path: string) => `${publicUrl()}${path}`;

/** The event envelope, serialized once: these exact bytes are signed and sent on every attempt. */
export function serializeEnvelope(event: {
  id: string;
  type: EventType;
  createdAt: Date;
  team: { id: string; name: string };
  alert: AlertPayload;
}): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    apiVersion: API_VERSION,
    createdAt: event.createdAt.toISOString(),
    team: { id: event.team.id, name: event.team.name },
    data: { alert: event.alert },
  });
}
