-- The event as the queue (issue 24, lib/webhooks/delivery/event-queue.ts): one row per new alert's
-- event instead of a queued Delivery row per endpoint. Rows are updated in place by each claim's
-- lease (room kept free on the pages for that) and deleted once their deliveries are written.
-- CreateTable
CREATE TABLE "EventQueue" (
    "eventId" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,
    "alertId" TEXT,
    "eventCreatedAt" TIMESTAMP(3) NOT NULL,
    "endpointIds" TEXT[],
    "deliveryIds" TEXT[],
    "claims" INTEGER NOT NULL DEFAULT 0,
    "leaseExpiresAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EventQueue_pkey" PRIMARY KEY ("eventId")
) WITH (fillfactor = 50);

-- CreateIndex
CREATE INDEX "EventQueue_createdAt_idx" ON "EventQueue"("createdAt");

-- CreateIndex
CREATE INDEX "EventQueue_alertId_idx" ON "EventQueue"("alertId");

-- AddForeignKey
ALTER TABLE "EventQueue" ADD CONSTRAINT "EventQueue_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;
