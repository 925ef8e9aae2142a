import "server-only";
// The request headers of a delivery attempt, as the delivery page shows them. The
// signatures are recomputed here (never in a page) and shown only to roles that may reveal
// the secret: x-mon1tor-sha256-wh has no timestamp, so a viewer holding a signature could
// replay that body to a receiver that checks only that header.
import type { TeamContext } from "@/lib/auth/context";
import { can } from "@/lib/auth/permissions";
import { decrypt } from "@/lib/crypto/encryption";
import { db } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { maskValue, readCustomHeaders } from "@/lib/webhooks/endpoints/custom-headers";
import { livePreviousSecret } from "@/lib/webhooks/endpoints/secret";
import { deliveryHeaders, NEXT_SIGNATURE_HEADER, SIGNATURE_HEADER } from "@/lib/webhooks/delivery/sign";

const SIGNATURES = [SIGNATURE_HEADER, NEXT_SIGNATURE_HEADER, "webhook-signature"];
export const MASKED_SIGNATURE = "•••••• hidden: your role cannot see signatures";

export async function attemptRequestHeaders(
  context: TeamContext,
  delivery: { id: string; endpointId: string; body: string; timestamp: number },
): Promise<Record<string, string>> {
  const endpoint = await db.webhookEndpoint.findFirst({
    where: { id: delivery.endpointId, teamId: context.team.id },
    select: { secretCiphertext: true, previousSecretCiphertext: true, previousSecretExpiresAt: true, customHeadersCiphertext: true },
  });
  if (!endpoint) throw notFound("That webhook endpoint does not exist.");
  const previous = livePreviousSecret(endpoint);
  // Custom header values are the receiver's secrets: masked for everyone.
  const custom = readCustomHeaders(endpoint.customHeadersCiphertext).map((header) => ({ name: header.name, value: maskValue(header.value) }));
  const headers = deliveryHeaders(decrypt(endpoint.secretCiphertext), delivery.id, delivery.timestamp, delivery.body, {
    previousSecret: previous ? decrypt(previous) : null,
    custom,
  });
  if (can(context.role, "webhooks:reveal-secret")) return headers;
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, SIGNATURES.includes(name) ? MASKED_SIGNATURE : value]));
}
