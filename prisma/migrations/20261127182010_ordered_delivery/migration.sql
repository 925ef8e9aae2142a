-- AlterEnum
ALTER TYPE "DeliveryStatus" ADD VALUE 'superseded';

-- AlterTable
ALTER TABLE "WebhookEndpoint" ADD COLUMN     "skipOutdatedStates" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "Alert" ADD COLUMN     "lastEventId" TEXT,
ADD COLUMN     "lastSequence" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Event" ADD COLUMN     "sequence" INTEGER;

-- AlterTable
ALTER TABLE "Delivery" ADD COLUMN     "alertId" TEXT,
ADD COLUMN     "sequence" INTEGER,
ADD COLUMN     "supersededById" TEXT;


-- Per-alert order of existing events, so the ordering rule knows about what is queued now.
UPDATE "Event" ev SET sequence = o.n
FROM (SELECT id, row_number() OVER (PARTITION BY "alertId" ORDER BY "createdAt", id) AS n FROM "Event" WHERE "alertId" IS NOT NULL) o
WHERE ev.id = o.id;
UPDATE "Alert" a SET "lastSequence" = l.n, "lastEventId" = l.id
FROM (SELECT DISTINCT ON ("alertId") "alertId", id, sequence AS n FROM "Event" WHERE "alertId" IS NOT NULL ORDER BY "alertId", sequence DESC) l
WHERE a.id = l."alertId";
UPDATE "Delivery" d SET "alertId" = ev."alertId", sequence = ev.sequence
FROM "Event" ev WHERE ev.id = d."eventId" AND d."nextAttemptAt" IS NOT NULL AND ev."alertId" IS NOT NULL;

-- The claim's ordering rule and the supersede step look up an endpoint's unfinished
-- deliveries of one alert. Partial, so finished history (most rows) costs nothing.
-- Prisma 6 cannot express a partial index (scripts/migrations.test.ts knows it).
CREATE INDEX "Delivery_unfinished_alert_idx" ON "Delivery"("endpointId", "alertId", sequence) WHERE "nextAttemptAt" IS NOT NULL AND "alertId" IS NOT NULL;

-- Queued deliveries of endpoints that are not active are parked far in the future, so the
-- claim's scan of due deliveries never has to step over them (lib/webhooks/backlog.ts).
UPDATE "Delivery" d SET "nextAttemptAt" = '9999-12-31 00:00:00'
FROM "WebhookEndpoint" e
WHERE e.id = d."endpointId" AND e.status <> 'active' AND d."nextAttemptAt" IS NOT NULL;
