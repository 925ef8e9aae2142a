-- AlterTable
ALTER TABLE "WebhookEndpoint" ADD COLUMN     "customHeadersCiphertext" TEXT,
ADD COLUMN     "eventTypes" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "monitorIds" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "previousSecretCiphertext" TEXT,
ADD COLUMN     "previousSecretExpiresAt" TIMESTAMP(3),
ADD COLUMN     "secretRolledAt" TIMESTAMP(3),
ADD COLUMN     "severities" TEXT[] DEFAULT ARRAY[]::TEXT[];

