-- CreateTable
CREATE TABLE "ProjectProfile" (
    "uid" TEXT NOT NULL,
    "purposeCode" TEXT NOT NULL,
    "datasetId" TEXT NOT NULL DEFAULT '',
    "statusCode" TEXT NOT NULL,
    "startTime" TIMESTAMP(3),
    "endTime" TIMESTAMP(3),
    "modelingMode" TEXT NOT NULL DEFAULT '1',
    "earlyStop" TEXT NOT NULL DEFAULT '',
    "tags" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ProjectProfile_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "RetrainJob" (
    "uid" TEXT NOT NULL,
    "organizationUid" TEXT NOT NULL,
    "createdByUid" TEXT NOT NULL,
    "apiKeyUid" TEXT,
    "baseModelUid" TEXT NOT NULL,
    "templateTaskUid" TEXT NOT NULL,
    "datasetUid" TEXT,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RetrainJob_pkey" PRIMARY KEY ("uid")
);

-- CreateIndex
CREATE INDEX "RetrainJob_organizationUid_createdAt_uid_idx" ON "RetrainJob"("organizationUid", "createdAt", "uid");

-- AddForeignKey
ALTER TABLE "ProjectProfile" ADD CONSTRAINT "ProjectProfile_uid_fkey" FOREIGN KEY ("uid") REFERENCES "Project"("uid") ON DELETE CASCADE ON UPDATE CASCADE;

