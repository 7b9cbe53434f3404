-- CreateTable
CREATE TABLE "Webhook" (
    "uid" TEXT NOT NULL,
    "organizationUid" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "events" TEXT NOT NULL,
    "secret" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "consecutiveFailures" INTEGER NOT NULL DEFAULT 0,
    "disabledAt" TIMESTAMP(3),
    "lastEventId" INTEGER NOT NULL,
    "createdByUid" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Webhook_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "WebhookDelivery" (
    "uid" TEXT NOT NULL,
    "webhookUid" TEXT NOT NULL,
    "eventId" INTEGER NOT NULL,
    "event" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL,
    "claimedUntil" TIMESTAMP(3),
    "lastStatusCode" INTEGER,
    "lastError" TEXT NOT NULL DEFAULT '',
    "deliveredAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WebhookDelivery_pkey" PRIMARY KEY ("uid")
);

-- CreateIndex
CREATE INDEX "Webhook_organizationUid_createdAt_uid_idx" ON "Webhook"("organizationUid", "createdAt", "uid");

-- CreateIndex
CREATE INDEX "WebhookDelivery_status_nextAttemptAt_idx" ON "WebhookDelivery"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "WebhookDelivery_webhookUid_createdAt_uid_idx" ON "WebhookDelivery"("webhookUid", "createdAt", "uid");

-- CreateIndex
CREATE UNIQUE INDEX "WebhookDelivery_webhookUid_eventId_key" ON "WebhookDelivery"("webhookUid", "eventId");

-- AddForeignKey
ALTER TABLE "Webhook" ADD CONSTRAINT "Webhook_organizationUid_fkey" FOREIGN KEY ("organizationUid") REFERENCES "Organization"("uid") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_webhookUid_fkey" FOREIGN KEY ("webhookUid") REFERENCES "Webhook"("uid") ON DELETE CASCADE ON UPDATE CASCADE;
