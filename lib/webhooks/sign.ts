// Both signature schemes over the exact bytes that are sent.
import crypto from "node:crypto";
import { secretKeyBytes } from "@/lib/webhooks/secret";
import type { CustomHeader } from "@/lib/webhooks/custom-headers";
import { USER_AGENT } from "@/lib/webhooks/outbound";

/** The header that carries our signature of the body. */
export const SIGNATURE_HEADER = "x-mon1tor-sha256-wh";

/** x-mon1tor-sha256-wh: hex HMAC-SHA256 of the body, keyed with the whole secret string. */
export const mon1torSignature = (secret: string, body: string) =>
  crypto.createHmac("sha256", secret).update(body).digest("hex");

/** webhook-signature (Standard Webhooks): v1,base64 HMAC of "id.timestamp.body", keyed with the decoded secret. */
export const standardSignature = (secret: string, webhookId: string, timestamp: number, body: string) =>
  `v1,${crypto.createHmac("sha256", secretKeyBytes(secret)).update(`${webhookId}.${timestamp}.${body}`).digest("base64")}`;

/** During a secret roll's overlap: the new secret's signature of the body. */
export const NEXT_SIGNATURE_HEADER = "x-mon1tor-sha256-wh-next";

export type SigningOptions = {
  /** The rolled-away secret, while its overlap lasts. */
  previousSecret?: string | null;
  /** The endpoint's own static headers; they never replace ours. */
  custom?: CustomHeader[];
};

/**
 * Every header of a delivery POST, for one attempt at `timestamp` (Unix seconds). During a
 * roll's overlap, x-mon1tor-sha256-wh keeps the old secret (receivers that have not
 * switched keep working), x-mon1tor-sha256-wh-next carries the new one, and
 * webhook-signature carries both, space-separated, as Standard Webhooks allows.
 */
export function deliveryHeaders(secret: string, webhookId: string, timestamp: number, body: string, options: SigningOptions = {}): Record<string, string> {
  const previous = options.previousSecret ?? null;
  const headers: Record<string, string> = {};
  for (const { name, value } of options.custom ?? []) headers[name.toLowerCase()] = value;
  return Object.assign(headers, {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    [SIGNATURE_HEADER]: mon1torSignature(previous ?? secret, body),
    ...(previous ? { [NEXT_SIGNATURE_HEADER]: mon1torSignature(secret, body) } : {}),
    "webhook-id": webhookId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": [secret, ...(previous ? [previous] : [])].map((key) => standardSignature(key, webhookId, timestamp, body)).join(" "),
  });
}
