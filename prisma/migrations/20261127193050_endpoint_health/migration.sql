-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "NotificationKind" ADD VALUE 'certificate_expiring';
ALTER TYPE "NotificationKind" ADD VALUE 'certificate_expired';
ALTER TYPE "NotificationKind" ADD VALUE 'revalidation_failed';

-- AlterTable
ALTER TABLE "WebhookEndpoint" ADD COLUMN     "nextRevalidationAt" TIMESTAMP(3),
ADD COLUMN     "revalidateDaily" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "revalidationFailures" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "tlsCertCheckedAt" TIMESTAMP(3),
ADD COLUMN     "tlsCertExpiresAt" TIMESTAMP(3),
ADD COLUMN     "tlsCertNoticeKey" TEXT;

-- AlterTable
ALTER TABLE "ValidationAttempt" ADD COLUMN     "scheduled" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "EndpointHealthHour" (
    "endpointId" TEXT NOT NULL,
    "hour" TIMESTAMP(3) NOT NULL,
    "attempts" INTEGER NOT NULL,
    "succeeded" INTEGER NOT NULL,
    "latency" INTEGER[],

    CONSTRAINT "EndpointHealthHour_pkey" PRIMARY KEY ("endpointId","hour")
);

-- CreateIndex
CREATE INDEX "EndpointHealthHour_hour_idx" ON "EndpointHealthHour"("hour");

-- CreateIndex
CREATE INDEX "WebhookEndpoint_nextRevalidationAt_idx" ON "WebhookEndpoint"("nextRevalidationAt");

-- AddForeignKey
ALTER TABLE "EndpointHealthHour" ADD CONSTRAINT "EndpointHealthHour_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "WebhookEndpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Health of the last 8 days from the attempt log, bucketed like lib/webhooks/health.ts
-- (LATENCY_BUCKETS_MS as of this migration).
WITH per_bucket AS (
  SELECT d."endpointId" AS endpoint, date_trunc('hour', a."startedAt") AS hour,
         width_bucket(a."durationMs", ARRAY[1,2,3,4,5,6,8,10,12,15,20,25,30,40,50,60,80,100,120,150,200,250,300,400,500,600,800,1000,1200,1500,2000,2500,3000,4000,5000,6000,8000,10000,12000,15000,20000,25000,30000,40000,50000,60000]) AS bucket,
         count(*)::int AS attempts,
         count(*) FILTER (WHERE a."statusCode" BETWEEN 200 AND 299)::int AS succeeded,
         count(*) FILTER (WHERE a."statusCode" IS NOT NULL)::int AS responded
  FROM "DeliveryAttempt" a JOIN "Delivery" d ON d.id = a."deliveryId"
  WHERE a."startedAt" > (now() AT TIME ZONE 'UTC') - interval '8 days'
  GROUP BY 1, 2, 3
)
INSERT INTO "EndpointHealthHour" ("endpointId", hour, attempts, succeeded, latency)
SELECT g.endpoint, g.hour, sum(g.attempts)::int, sum(g.succeeded)::int,
       ARRAY(SELECT COALESCE((SELECT p.responded FROM per_bucket p WHERE p.endpoint = g.endpoint AND p.hour = g.hour AND p.bucket = i), 0)
             FROM generate_series(0, 46) AS i ORDER BY i)
FROM per_bucket g
GROUP BY g.endpoint, g.hour;

-- Active endpoints start their daily re-validation a day from now.
UPDATE "WebhookEndpoint" SET "nextRevalidationAt" = (now() AT TIME ZONE 'UTC') + interval '1 day' WHERE status = 'active';
