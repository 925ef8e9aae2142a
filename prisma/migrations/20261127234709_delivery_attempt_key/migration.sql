-- Attempts are keyed by (deliveryId, number), which was already unique: each recorded attempt then
-- inserts into one index instead of two (the random text id's index was the second). Building
-- the new primary key locks DeliveryAttempt for as long as indexing its rows takes.

-- DropIndex
DROP INDEX "DeliveryAttempt_deliveryId_number_key";

-- AlterTable
ALTER TABLE "DeliveryAttempt" DROP CONSTRAINT "DeliveryAttempt_pkey",
DROP COLUMN "id",
ADD CONSTRAINT "DeliveryAttempt_pkey" PRIMARY KEY ("deliveryId", "number");

