-- DropIndex
DROP INDEX "Task_status_idx";

-- CreateIndex
CREATE INDEX "Task_status_createdAt_uid_idx" ON "Task"("status", "createdAt", "uid");
