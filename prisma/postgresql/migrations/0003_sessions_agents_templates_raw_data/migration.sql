-- CreateTable
CREATE TABLE "Session" (
    "uid" TEXT NOT NULL,
    "userUid" TEXT NOT NULL,
    "secretVersion" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Session_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "Agent" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "activationToken" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "organizationUid" TEXT NOT NULL,

    CONSTRAINT "Agent_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "ApplicationAgentLink" (
    "uid" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "organizationUid" TEXT NOT NULL,
    "applicationUid" TEXT NOT NULL,
    "agentUid" TEXT NOT NULL,

    CONSTRAINT "ApplicationAgentLink_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "RawData" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "organizationUid" TEXT NOT NULL,
    "applicationUid" TEXT NOT NULL,
    "fileUid" TEXT NOT NULL,
    "extension" TEXT NOT NULL,

    CONSTRAINT "RawData_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "InferenceTemplate" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "type" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "organizationUid" TEXT NOT NULL,
    "modelUid" TEXT NOT NULL,
    "fileUid" TEXT NOT NULL,
    "extension" TEXT NOT NULL,

    CONSTRAINT "InferenceTemplate_pkey" PRIMARY KEY ("uid")
);

-- CreateIndex
CREATE INDEX "Session_userUid_idx" ON "Session"("userUid");

-- CreateIndex
CREATE INDEX "Session_expiresAt_idx" ON "Session"("expiresAt");

-- CreateIndex
CREATE INDEX "Agent_organizationUid_createdAt_idx" ON "Agent"("organizationUid", "createdAt");

-- CreateIndex
CREATE INDEX "ApplicationAgentLink_agentUid_createdAt_idx" ON "ApplicationAgentLink"("agentUid", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "ApplicationAgentLink_applicationUid_agentUid_key" ON "ApplicationAgentLink"("applicationUid", "agentUid");

-- CreateIndex
CREATE INDEX "RawData_applicationUid_createdAt_idx" ON "RawData"("applicationUid", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "InferenceTemplate_modelUid_key" ON "InferenceTemplate"("modelUid");

-- AddForeignKey
ALTER TABLE "Session" ADD CONSTRAINT "Session_userUid_fkey" FOREIGN KEY ("userUid") REFERENCES "User"("uid") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Agent" ADD CONSTRAINT "Agent_organizationUid_fkey" FOREIGN KEY ("organizationUid") REFERENCES "Organization"("uid") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApplicationAgentLink" ADD CONSTRAINT "ApplicationAgentLink_applicationUid_fkey" FOREIGN KEY ("applicationUid") REFERENCES "Application"("uid") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApplicationAgentLink" ADD CONSTRAINT "ApplicationAgentLink_agentUid_fkey" FOREIGN KEY ("agentUid") REFERENCES "Agent"("uid") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RawData" ADD CONSTRAINT "RawData_applicationUid_fkey" FOREIGN KEY ("applicationUid") REFERENCES "Application"("uid") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InferenceTemplate" ADD CONSTRAINT "InferenceTemplate_modelUid_fkey" FOREIGN KEY ("modelUid") REFERENCES "Model"("uid") ON DELETE RESTRICT ON UPDATE CASCADE;

