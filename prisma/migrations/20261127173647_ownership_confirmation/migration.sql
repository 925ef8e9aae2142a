-- AlterTable
ALTER TABLE "Team" ADD COLUMN     "endpointRateLimitPerMinute" INTEGER,
ADD COLUMN     "requireOwnershipConfirmation" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "WebhookEndpoint" ADD COLUMN     "deliveryRateCap" INTEGER,
ADD COLUMN     "ownershipConfirmedAt" TIMESTAMP(3),
ADD COLUMN     "rateWindowCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "rateWindowStart" TIMESTAMP(3);

-- Endpoints validated before ownership confirmation existed have not proved it: they get
-- the default cap for unconfirmed endpoints (MON1TOR_UNCONFIRMED_RATE_PER_MINUTE) until a
-- validation echoes the token.
UPDATE "WebhookEndpoint" SET "deliveryRateCap" = 5000;
