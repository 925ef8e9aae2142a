-- mon1tor listen (lib/relay/): endpoints of kind "relay", reached through a CLI's stream instead of HTTP,
-- the attempts handed to them (RelayRequest), and what an API key may do (existing keys: send alerts).
-- CreateEnum
CREATE TYPE "EndpointKind" AS ENUM ('http', 'relay');

-- AlterTable
ALTER TABLE "WebhookEndpoint" ADD COLUMN     "kind" "EndpointKind" NOT NULL DEFAULT 'http',
ADD COLUMN     "relayName" TEXT,
ADD COLUMN     "relaySeenAt" TIMESTAMP(3),
ADD COLUMN     "relayStreamId" TEXT;

-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "permissions" TEXT[] DEFAULT ARRAY['alerts:send']::TEXT[];

-- CreateTable
CREATE TABLE "RelayRequest" (
    "id" TEXT NOT NULL,
    "endpointId" TEXT NOT NULL,
    "deliveryId" TEXT NOT NULL,
    "headersCiphertext" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "pushedAt" TIMESTAMP(3),
    "answeredAt" TIMESTAMP(3),
    "statusCode" INTEGER,
    "durationMs" INTEGER,
    "errorClass" TEXT,
    "reason" TEXT,
    "responseExcerpt" TEXT,
    "retryAfterSeconds" INTEGER,

    CONSTRAINT "RelayRequest_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "RelayRequest_endpointId_pushedAt_idx" ON "RelayRequest"("endpointId", "pushedAt");

-- AddForeignKey
ALTER TABLE "RelayRequest" ADD CONSTRAINT "RelayRequest_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "WebhookEndpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

