-- DropIndex
DROP INDEX "Project_organizationUid_createdAt_idx";

-- DropIndex
DROP INDEX "Application_projectUid_createdAt_idx";

-- DropIndex
DROP INDEX "Agent_organizationUid_createdAt_idx";

-- DropIndex
DROP INDEX "RawData_applicationUid_createdAt_idx";

-- DropIndex
DROP INDEX "Pipeline_applicationUid_createdAt_idx";

-- DropIndex
DROP INDEX "Dataset_projectUid_createdAt_idx";

-- DropIndex
DROP INDEX "Dataset_applicationUid_createdAt_idx";

-- DropIndex
DROP INDEX "Config_pipelineUid_createdAt_idx";

-- DropIndex
DROP INDEX "Image_pipelineUid_createdAt_idx";

-- DropIndex
DROP INDEX "Model_applicationUid_createdAt_idx";

-- DropIndex
DROP INDEX "Task_pipelineUid_createdAt_idx";

-- CreateIndex
CREATE INDEX "Project_organizationUid_createdAt_uid_idx" ON "Project"("organizationUid", "createdAt", "uid");

-- CreateIndex
CREATE INDEX "Application_projectUid_createdAt_uid_idx" ON "Application"("projectUid", "createdAt", "uid");

-- CreateIndex
CREATE INDEX "Agent_organizationUid_createdAt_uid_idx" ON "Agent"("organizationUid", "createdAt", "uid");

-- CreateIndex
CREATE INDEX "RawData_applicationUid_createdAt_uid_idx" ON "RawData"("applicationUid", "createdAt", "uid");

-- CreateIndex
CREATE INDEX "Pipeline_applicationUid_createdAt_uid_idx" ON "Pipeline"("applicationUid", "createdAt", "uid");

-- CreateIndex
CREATE INDEX "Dataset_projectUid_createdAt_uid_idx" ON "Dataset"("projectUid", "createdAt", "uid");

-- CreateIndex
CREATE INDEX "Dataset_applicationUid_createdAt_uid_idx" ON "Dataset"("applicationUid", "createdAt", "uid");

-- CreateIndex
CREATE INDEX "Config_pipelineUid_createdAt_uid_idx" ON "Config"("pipelineUid", "createdAt", "uid");

-- CreateIndex
CREATE INDEX "Image_pipelineUid_createdAt_uid_idx" ON "Image"("pipelineUid", "createdAt", "uid");

-- CreateIndex
CREATE INDEX "Model_applicationUid_createdAt_uid_idx" ON "Model"("applicationUid", "createdAt", "uid");

-- CreateIndex
CREATE INDEX "Task_pipelineUid_createdAt_uid_idx" ON "Task"("pipelineUid", "createdAt", "uid");

-- CreateIndex
CREATE INDEX "Task_status_idx" ON "Task"("status");

-- CreateIndex
CREATE INDEX "Task_outputModelUid_idx" ON "Task"("outputModelUid");

