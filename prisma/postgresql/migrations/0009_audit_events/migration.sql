-- CreateTable
CREATE TABLE "AuditEvent" (
    "uid" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "actorUid" TEXT NOT NULL,
    "actorAccessKey" TEXT NOT NULL,
    "subjectUid" TEXT NOT NULL,
    "organizationUid" TEXT,
    "details" TEXT NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("uid")
);

-- CreateIndex
CREATE INDEX "AuditEvent_createdAt_uid_idx" ON "AuditEvent"("createdAt", "uid");

-- CreateIndex
CREATE INDEX "AuditEvent_subjectUid_createdAt_uid_idx" ON "AuditEvent"("subjectUid", "createdAt", "uid");

-- CreateIndex
CREATE INDEX "AuditEvent_organizationUid_createdAt_uid_idx" ON "AuditEvent"("organizationUid", "createdAt", "uid");

