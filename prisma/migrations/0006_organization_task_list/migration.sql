-- CreateIndex
CREATE INDEX "Task_organizationUid_createdAt_uid_idx" ON "Task"("organizationUid", "createdAt", "uid");

