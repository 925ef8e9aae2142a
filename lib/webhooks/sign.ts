// Both signature schemes over the exact bytes that are sent.
import crypto from "node:crypto";
import { secretKeyBytes } from "@/lib/webhooks/secret";
import { USER_AGENT } from "@/lib/webhooks/outbound";

/** The header that carries our signature of the body. */
export const SIGNATURE_HEADER = "x-mon1tor-sha256-wh";

/** x-mon1tor-sha256-wh: hex HMAC-SHA256 of the body, keyed with the whole secret string. */
export const mon1torSignature = (secret: string, body: string) =>
  crypto.createHmac("sha256", secret).update(body).digest("hex");

/** webhook-signature (Standard Webhooks): v1,base64 HMAC of "id.timestamp.body", keyed with the decoded secret. */
export const standardSignature = (secret: string, webhookId: string, timestamp: number, body: string) =>
  `v1,${crypto.createHmac("sha256", secretKeyBytes(secret)).update(`${webhookId}.${timestamp}.${body}`).digest("base64")}`;

/** Every header of a delivery POST, for one attempt at `timestamp` (Unix seconds). */
export function deliveryHeaders(secret: string, webhookId: string, timestamp: number, body: string): Record<string, string> {
  return {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    [SIGNATURE_HEADER]: mon1torSignature(secret, body),
    "webhook-id": webhookId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": standardSignature(secret, webhookId, timestamp, body),
  };
}
