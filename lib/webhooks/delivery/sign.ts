// Both signature schemes over the exact bytes that are sent.
import crypto from "node:crypto";
import { secretKeyBytes } from "@/lib/webhooks/endpoints/secret";
import type { CustomHeader } from "@/lib/webhooks/endpoints/custom-headers";
import { USER_AGENT } from "@/lib/webhooks/delivery/outbound";

/** The header that carries our signature of the body. */
export const SIGNATURE_HEADER = "x-mon1tor-sha256-wh";

/** x-mon1tor-sha256-wh: hex HMAC-SHA256 of the body, keyed with the whole secret string (or its prepared key). */
export const mon1torSignature = (secret: string | crypto.KeyObject, body: string | Buffer) =>
  crypto.createHmac("sha256", secret).update(body).digest("hex");

/** The Standard Webhooks key of a secret: the base64 part, decoded. */
const standardKey = (secret: string) => crypto.createSecretKey(secretKeyBytes(secret));

/** webhook-signature (Standard Webhooks): v1,base64 HMAC of "id.timestamp.body", keyed with the decoded secret. */
export const standardSignature = (secret: string | crypto.KeyObject, webhookId: string, timestamp: number, body: string | Buffer) =>
  `v1,${crypto
    .createHmac("sha256", typeof secret === "string" ? standardKey(secret) : secret)
    .update(`${webhookId}.${timestamp}.`)
    .update(body)
    .digest("base64")}`;

/** During a secret roll's overlap: the new secret's signature of the body. */
export const NEXT_SIGNATURE_HEADER = "x-mon1tor-sha256-wh-next";

export type SigningOptions = {
  /** The rolled-away secret, while its overlap lasts. */
  previousSecret?: string | null;
  /** The endpoint's own static headers; they never replace ours. */
  custom?: CustomHeader[];
};

/** Signs deliveries for one endpoint: its keys are decoded once, not per request. */
export type Signer = (webhookId: string, timestamp: number, body: string | Buffer) => Record<string, string>;

/**
 * The signer for an endpoint's secret. During a roll's overlap, x-mon1tor-sha256-wh keeps the
 * old secret (receivers that have not switched keep working), x-mon1tor-sha256-wh-next
 * carries the new one, and webhook-signature carries both, space-separated, as Standard
 * Webhooks allows.
 */
export function signerFor(secret: string, options: SigningOptions = {}): Signer {
  const previous = options.previousSecret ?? null;
  // Defined, not assigned: a header named "__proto__" (a valid name) would otherwise set the prototype and vanish.
  const custom: Record<string, string> = Object.fromEntries((options.custom ?? []).map(({ name, value }) => [name.toLowerCase(), value]));
  const hasCustom = Object.keys(custom).length > 0;
  const mon1torKey = crypto.createSecretKey(Buffer.from(previous ?? secret));
  const nextKey = previous ? crypto.createSecretKey(Buffer.from(secret)) : null;
  const standardKeys = [secret, ...(previous ? [previous] : [])].map(standardKey);
  return (webhookId, timestamp, body) => {
    // One literal: built key by key (after a copy of the custom ones), each request's object
    // outgrew its inline properties and took a second allocation.
    const ours: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": USER_AGENT,
      [SIGNATURE_HEADER]: mon1torSignature(mon1torKey, body),
      "webhook-id": webhookId,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": standardKeys.length === 1 ? standardSignature(standardKeys[0]!, webhookId, timestamp, body) : standardKeys.map((key) => standardSignature(key, webhookId, timestamp, body)).join(" "),
    };
    if (nextKey) ours[NEXT_SIGNATURE_HEADER] = mon1torSignature(nextKey, body);
    // Custom headers first, ours after them: never replaced.
    return hasCustom ? Object.assign({ ...custom }, ours) : ours;
  };
}

/** Every header of a delivery POST, for one attempt at `timestamp` (Unix seconds). */
export function deliveryHeaders(secret: string, webhookId: string, timestamp: number, body: string, options: SigningOptions = {}): Record<string, string> {
  return signerFor(secret, options)(webhookId, timestamp, body);
}
