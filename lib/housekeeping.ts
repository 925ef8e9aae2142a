// Everything besides sending that keeps an installation clean and honest. The worker runs
// it every minute and the cron route on every call, so a deployment with only the cron
// (serverless) gets all of it too.
import type pg from "pg";
import { metrics, withTeam } from "@/lib/metrics/metrics";
import { sendPendingNotificationEmails } from "@/lib/notifications/email";
import { purgeExpiredRateLimits } from "@/lib/rate-limit";
import { disconnectStaleRelays, removeAbandonedRelays } from "@/lib/relay/relays";
import { expireStaleDeliveries } from "@/lib/webhooks/delivery/backlog";
import { purgeExpiredSecrets } from "@/lib/webhooks/endpoints/settings";
import { purgeHealthHours } from "@/lib/webhooks/delivery/health-hours";
import { purgeHistory } from "@/lib/webhooks/delivery/retention";
import { revalidateDue } from "@/lib/webhooks/endpoints/daily-validation";

export type HousekeepingReport = {
  /** Day partitions of the history made ahead, dropped whole, and kept past the window because a delivery there is still queued (lib/webhooks/delivery/retention.ts). */
  partitionsMade: number;
  daysDropped: number;
  daysKept: number;
  /** Rows deleted one by one: only the history from before partitioning. */
  deliveriesPurged: number;
  eventsPurged: number;
  idempotencyKeysPurged: number;
  rateLimitsPurged: number;
  deliveriesExpired: number;
  emailsSent: number;
  previousSecretsPurged: number;
  healthHoursPurged: number;
  /** Endpoints given their daily re-validation this round. */
  revalidated: number;
  /** CLI relays whose holder died, disconnected; and relays nobody connected for hours, removed. */
  relaysDisconnected: number;
  relaysRemoved: number;
};

export async function runHousekeeping(pool: pg.Pool, retentionDays: number): Promise<HousekeepingReport> {
  const purged = await purgeHistory(pool, retentionDays);
  const relaysDisconnected = await disconnectStaleRelays(pool);
  const deliveriesExpired = await expireStaleDeliveries(pool);
  if (deliveriesExpired > 0) metrics().deliveries.inc(withTeam({ outcome: "expired" }, null), deliveriesExpired);
  return {
    partitionsMade: purged.partitionsMade,
    daysDropped: purged.daysDropped,
    daysKept: purged.daysKept,
    deliveriesPurged: purged.deliveries,
    eventsPurged: purged.events,
    idempotencyKeysPurged: purged.idempotencyKeys,
    rateLimitsPurged: await purgeExpiredRateLimits(pool),
    deliveriesExpired,
    emailsSent: await sendPendingNotificationEmails(pool),
    previousSecretsPurged: await purgeExpiredSecrets(pool),
    healthHoursPurged: await purgeHealthHours(pool),
    revalidated: await revalidateDue(),
    relaysDisconnected,
    relaysRemoved: await removeAbandonedRelays(pool),
  };
}
