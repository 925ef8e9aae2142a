// What `mon1tor listen` (lib/cli/) and the server say to each other. Pure: the CLI imports it.
//
// 1. The CLI opens `POST /api/v1/relays/listen` with a RelayHello and holds the response open:
//    newline-delimited JSON, one StreamMessage a line (a `ready` first, then `request`s and
//    `ping`s).
// 2. For each `request` the CLI POSTs the request to the local receiver, then the outcome to
//    `POST /api/v1/relays/<relay id>/responses` as a RelayAnswer.
import { z } from "zod";

/** The URL a relay endpoint is stored under: unique per team like any URL, never requested. */
export const relayUrl = (name: string) => `relay://${name}`;

export const relayNameSchema = z
  .string()
  .trim()
  .min(1, "Give the relay a name.")
  .max(64, "Use at most 64 characters for the relay's name.")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "Use letters, digits, '.', '_' and '-' in the relay's name, starting with a letter or digit.");

/** How long a disconnected relay's deliveries wait for a CLI to come back before they expire. */
export const RELAY_RECONNECT_WINDOW_MS = 10 * 60 * 1000;
export const RELAY_EXPIRED_REASON = `expired: mon1tor listen stayed disconnected for more than ${RELAY_RECONNECT_WINDOW_MS / 60_000} minutes`;
/** A relay nobody has connected for this long is removed, with its history. */
export const RELAY_REMOVE_AFTER_MS = 6 * 60 * 60 * 1000;
/** How often the stream carries a ping, so that proxies keep it open and both sides notice a dead one. */
export const RELAY_PING_MS = 15_000;
/** At most this much of the local receiver's answer is kept, as for an HTTP endpoint. */
export const RELAY_EXCERPT_CHARS = 2_000;

export const relayHelloSchema = z.object({
  name: relayNameSchema,
  /** Pins the signing secret (a whsec_ value); otherwise the relay's own is kept, or one is made. */
  secret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{40,88}={0,2}$/, "Pass a signing secret as whsec_ followed by base64 (at least 30 bytes).")
    .optional(),
  eventTypes: z.array(z.string().max(100)).max(10).optional(),
  severities: z.array(z.string().max(100)).max(10).optional(),
  monitorIds: z.array(z.string().max(200, "Each monitor id is at most 200 characters.")).max(50, "Use at most 50 monitor ids.").optional(),
});
export type RelayHello = z.input<typeof relayHelloSchema>;

export const streamMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("ready"),
    relay: z.object({ id: z.string(), name: z.string(), filter: z.string() }),
    secret: z.string(),
  }),
  z.object({
    type: z.literal("request"),
    id: z.string(),
    deliveryId: z.string(),
    headers: z.record(z.string(), z.string()),
    body: z.string(),
  }),
  z.object({ type: z.literal("ping") }),
  /** The server ends the stream on purpose (the relay was deleted, or the server is stopping). */
  z.object({ type: z.literal("closed"), reason: z.string() }),
]);
export type StreamMessage = z.infer<typeof streamMessageSchema>;

export const relayAnswerSchema = z.object({
  requestId: z.string().min(1).max(64),
  /** The local receiver's status, or null when it gave none (error says why). */
  statusCode: z.number().int().min(100).max(599).nullable(),
  durationMs: z.number().int().min(0).max(24 * 3600 * 1000),
  headers: z.record(z.string().max(200), z.string().max(2_000)).optional(),
  body: z.string().max(64 * 1024).optional(),
  error: z
    .object({
      class: z.enum(["refused", "timeout", "dns", "reset", "network", "protocol", "blocked"]),
      message: z.string().max(500),
    })
    .optional(),
});
export type RelayAnswer = z.infer<typeof relayAnswerSchema>;
