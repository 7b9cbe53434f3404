-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Organization" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Organization_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "User" (
    "uid" TEXT NOT NULL,
    "accessKey" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "secretVersion" INTEGER NOT NULL DEFAULT 1,
    "role" TEXT NOT NULL,
    "revokedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "organizationUid" TEXT NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "StoredFile" (
    "uid" TEXT NOT NULL,
    "storageKey" TEXT NOT NULL,
    "extension" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StoredFile_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "Project" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "organizationUid" TEXT NOT NULL,

    CONSTRAINT "Project_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "Application" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "organizationUid" TEXT NOT NULL,
    "projectUid" TEXT NOT NULL,

    CONSTRAINT "Application_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "Pipeline" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "type" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "organizationUid" TEXT NOT NULL,
    "applicationUid" TEXT NOT NULL,
    "fileUid" TEXT NOT NULL,

    CONSTRAINT "Pipeline_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "Dataset" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "scope" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'available',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "organizationUid" TEXT NOT NULL,
    "projectUid" TEXT,
    "applicationUid" TEXT,
    "fileUid" TEXT,
    "extension" TEXT NOT NULL,

    CONSTRAINT "Dataset_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "Config" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "data" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "organizationUid" TEXT NOT NULL,
    "pipelineUid" TEXT NOT NULL,

    CONSTRAINT "Config_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "Image" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "sequence" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "organizationUid" TEXT NOT NULL,
    "pipelineUid" TEXT NOT NULL,
    "fileUid" TEXT NOT NULL,

    CONSTRAINT "Image_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "Model" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "type" TEXT NOT NULL,
    "inputFormat" TEXT NOT NULL,
    "outputFormat" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "version" DOUBLE PRECISION NOT NULL DEFAULT 1,
    "accuracy" DOUBLE PRECISION,
    "accessToken" TEXT NOT NULL,
    "source" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "organizationUid" TEXT NOT NULL,
    "applicationUid" TEXT NOT NULL,
    "agentUid" TEXT,
    "fileUid" TEXT,
    "extension" TEXT NOT NULL,

    CONSTRAINT "Model_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "Task" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "executeStep" TEXT NOT NULL,
    "statusMessage" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),
    "organizationUid" TEXT NOT NULL,
    "createdByUid" TEXT NOT NULL,
    "pipelineUid" TEXT NOT NULL,
    "downloadImageUid" TEXT NOT NULL,
    "runningImageUid" TEXT NOT NULL,
    "uploadImageUid" TEXT NOT NULL,
    "configUid" TEXT NOT NULL,
    "datasetUid" TEXT NOT NULL,
    "baseModelUid" TEXT,
    "outputDatasetUid" TEXT,
    "outputModelUid" TEXT,
    "resources" TEXT NOT NULL DEFAULT '{}',
    "engine" TEXT NOT NULL,
    "workflowName" TEXT,
    "workflowUid" TEXT,
    "resubmittedFrom" TEXT,

    CONSTRAINT "Task_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "TaskStep" (
    "taskUid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "sequence" TEXT NOT NULL,
    "phase" TEXT NOT NULL DEFAULT 'Pending',
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "exitCode" INTEGER,
    "message" TEXT NOT NULL DEFAULT '',
    "resources" TEXT NOT NULL DEFAULT '{}',
    "nodeId" TEXT,
    "podName" TEXT,

    CONSTRAINT "TaskStep_pkey" PRIMARY KEY ("taskUid","name")
);

-- CreateTable
CREATE TABLE "TaskStatusEvent" (
    "id" SERIAL NOT NULL,
    "taskUid" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "executeStep" TEXT NOT NULL,
    "message" TEXT NOT NULL DEFAULT '',
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TaskStatusEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "IdempotencyRecord" (
    "userUid" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "taskUid" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IdempotencyRecord_pkey" PRIMARY KEY ("userUid","key")
);

-- CreateIndex
CREATE UNIQUE INDEX "Organization_name_key" ON "Organization"("name");

-- CreateIndex
CREATE UNIQUE INDEX "User_accessKey_key" ON "User"("accessKey");

-- CreateIndex
CREATE UNIQUE INDEX "StoredFile_storageKey_key" ON "StoredFile"("storageKey");

-- CreateIndex
CREATE INDEX "Project_organizationUid_createdAt_idx" ON "Project"("organizationUid", "createdAt");

-- CreateIndex
CREATE INDEX "Application_projectUid_createdAt_idx" ON "Application"("projectUid", "createdAt");

-- CreateIndex
CREATE INDEX "Pipeline_applicationUid_createdAt_idx" ON "Pipeline"("applicationUid", "createdAt");

-- CreateIndex
CREATE INDEX "Dataset_projectUid_createdAt_idx" ON "Dataset"("projectUid", "createdAt");

-- CreateIndex
CREATE INDEX "Dataset_applicationUid_createdAt_idx" ON "Dataset"("applicationUid", "createdAt");

-- CreateIndex
CREATE INDEX "Config_pipelineUid_createdAt_idx" ON "Config"("pipelineUid", "createdAt");

-- CreateIndex
CREATE INDEX "Image_pipelineUid_createdAt_idx" ON "Image"("pipelineUid", "createdAt");

-- CreateIndex
CREATE INDEX "Model_applicationUid_createdAt_idx" ON "Model"("applicationUid", "createdAt");

-- CreateIndex
CREATE INDEX "Task_pipelineUid_createdAt_idx" ON "Task"("pipelineUid", "createdAt");

-- CreateIndex
CREATE INDEX "Task_organizationUid_status_idx" ON "Task"("organizationUid", "status");

-- CreateIndex
CREATE INDEX "TaskStatusEvent_taskUid_id_idx" ON "TaskStatusEvent"("taskUid", "id");

-- AddForeignKey
ALTER TABLE "User" ADD CONSTRAINT "User_organizationUid_fkey" FOREIGN KEY ("organizationUid") REFERENCES "Organization"("uid") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Project" ADD CONSTRAINT "Project_organizationUid_fkey" FOREIGN KEY ("organizationUid") REFERENCES "Organization"("uid") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Application" ADD CONSTRAINT "Application_projectUid_fkey" FOREIGN KEY ("projectUid") REFERENCES "Project"("uid") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Pipeline" ADD CONSTRAINT "Pipeline_applicationUid_fkey" FOREIGN KEY ("applicationUid") REFERENCES "Application"("uid") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Dataset" ADD CONSTRAINT "Dataset_projectUid_fkey" FOREIGN KEY ("projectUid") REFERENCES "Project"("uid") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Dataset" ADD CONSTRAINT "Dataset_applicationUid_fkey" FOREIGN KEY ("applicationUid") REFERENCES "Application"("uid") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Config" ADD CONSTRAINT "Config_pipelineUid_fkey" FOREIGN KEY ("pipelineUid") REFERENCES "Pipeline"("uid") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Image" ADD CONSTRAINT "Image_pipelineUid_fkey" FOREIGN KEY ("pipelineUid") REFERENCES "Pipeline"("uid") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Model" ADD CONSTRAINT "Model_applicationUid_fkey" FOREIGN KEY ("applicationUid") REFERENCES "Application"("uid") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Task" ADD CONSTRAINT "Task_pipelineUid_fkey" FOREIGN KEY ("pipelineUid") REFERENCES "Pipeline"("uid") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TaskStep" ADD CONSTRAINT "TaskStep_taskUid_fkey" FOREIGN KEY ("taskUid") REFERENCES "Task"("uid") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TaskStatusEvent" ADD CONSTRAINT "TaskStatusEvent_taskUid_fkey" FOREIGN KEY ("taskUid") REFERENCES "Task"("uid") ON DELETE CASCADE ON UPDATE CASCADE;

