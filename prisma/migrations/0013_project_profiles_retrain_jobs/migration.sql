-- CreateTable
CREATE TABLE "ProjectProfile" (
    "uid" TEXT NOT NULL PRIMARY KEY,
    "purposeCode" TEXT NOT NULL,
    "datasetId" TEXT NOT NULL DEFAULT '',
    "statusCode" TEXT NOT NULL,
    "startTime" DATETIME,
    "endTime" DATETIME,
    "modelingMode" TEXT NOT NULL DEFAULT '1',
    "earlyStop" TEXT NOT NULL DEFAULT '',
    "tags" TEXT NOT NULL DEFAULT '',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ProjectProfile_uid_fkey" FOREIGN KEY ("uid") REFERENCES "Project" ("uid") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "RetrainJob" (
    "uid" TEXT NOT NULL PRIMARY KEY,
    "organizationUid" TEXT NOT NULL,
    "createdByUid" TEXT NOT NULL,
    "apiKeyUid" TEXT,
    "baseModelUid" TEXT NOT NULL,
    "templateTaskUid" TEXT NOT NULL,
    "datasetUid" TEXT,
    "expiresAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE INDEX "RetrainJob_organizationUid_createdAt_uid_idx" ON "RetrainJob"("organizationUid", "createdAt", "uid");

