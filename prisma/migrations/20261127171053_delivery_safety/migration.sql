-- CreateEnum
CREATE TYPE "NotificationKind" AS ENUM ('endpoint_failing', 'endpoint_disabled');

-- AlterEnum
ALTER TYPE "DeliveryStatus" ADD VALUE 'expired';

-- AlterTable
ALTER TABLE "Membership" ADD COLUMN     "notificationsSeenAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "WebhookEndpoint" ADD COLUMN     "failingSince" TIMESTAMP(3),
ADD COLUMN     "inactiveSince" TIMESTAMP(3),
ADD COLUMN     "lastFailureAt" TIMESTAMP(3),
ADD COLUMN     "lastFailureReason" TEXT;

-- AlterTable
ALTER TABLE "Delivery" ADD COLUMN     "maxAttempts" INTEGER NOT NULL DEFAULT 8;

-- CreateTable
CREATE TABLE "Notification" (
    "id" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,
    "endpointId" TEXT,
    "kind" "NotificationKind" NOT NULL,
    "message" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "emailedAt" TIMESTAMP(3),

    CONSTRAINT "Notification_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Notification_teamId_createdAt_idx" ON "Notification"("teamId", "createdAt");

-- CreateIndex
CREATE INDEX "Notification_endpointId_idx" ON "Notification"("endpointId");

-- CreateIndex
CREATE INDEX "Notification_emailedAt_createdAt_idx" ON "Notification"("emailedAt", "createdAt");

-- AddForeignKey
ALTER TABLE "Notification" ADD CONSTRAINT "Notification_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Notification" ADD CONSTRAINT "Notification_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "WebhookEndpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- One open alert per (team, dedupKey), enforced by the database so that two concurrent
-- triggers cannot both open one. Prisma 6 cannot express a partial index, so it lives
-- only here (scripts/migrations.test.ts knows it). Older duplicates, which the previous
-- read-then-write could create, are closed first, keeping the newest open.
UPDATE "Alert" a SET status = 'resolved', "resolvedAt" = COALESCE(a."resolvedAt", now() AT TIME ZONE 'UTC')
WHERE a.status = 'triggered' AND a."dedupKey" IS NOT NULL AND EXISTS (
  SELECT 1 FROM "Alert" b
  WHERE b."teamId" = a."teamId" AND b."dedupKey" = a."dedupKey" AND b.status = 'triggered'
    AND (b."createdAt", b.id) > (a."createdAt", a.id)
);
CREATE UNIQUE INDEX "Alert_open_dedupKey_key" ON "Alert"("teamId", "dedupKey") WHERE status = 'triggered' AND "dedupKey" IS NOT NULL;
