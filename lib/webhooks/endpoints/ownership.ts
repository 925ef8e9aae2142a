// Proof of control. A 2xx to the token GET validates an endpoint, but a catch-all URL on
// someone else's site answers 2xx too. An endpoint whose response body echoes the token has
// proved that it is ours ("Ownership confirmed", the challenge Slack and Microsoft Graph
// use). An unconfirmed endpoint is capped at MON1TOR_UNCONFIRMED_RATE_PER_MINUTE deliveries a
// minute; a confirmed one is not capped unless its team sets a cap. A team can also require
// confirmation, so that only endpoints that echo the token become active.
import type { Tx } from "@/lib/db";
import { env } from "@/lib/env";

/** Deliveries per minute for an endpoint; null means no cap. */
export function deliveryRateCap(confirmed: boolean, teamCap: number | null): number | null {
  if (confirmed) return teamCap;
  const unconfirmed = env().MON1TOR_UNCONFIRMED_RATE_PER_MINUTE;
  return teamCap === null ? unconfirmed : Math.min(teamCap, unconfirmed);
}

/** Whether a validation response body proves control: it contains the token. */
export const echoesToken = (responseBody: string | null, token: string) => responseBody?.includes(token) ?? false;

/** Applies a team's settings to the caps of all its endpoints, in the caller's transaction. */
export async function applyTeamCaps(tx: Tx, teamId: string, teamCap: number | null) {
  await tx.webhookEndpoint.updateMany({ where: { teamId, ownershipConfirmedAt: { not: null } }, data: { deliveryRateCap: deliveryRateCap(true, teamCap) } });
  await tx.webhookEndpoint.updateMany({ where: { teamId, ownershipConfirmedAt: null }, data: { deliveryRateCap: deliveryRateCap(false, teamCap) } });
}
