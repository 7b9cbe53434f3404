-- Written by hand instead of Prisma's table rebuild: plain ADD COLUMNs are equivalent here and
-- run safely inside the migrator's transaction.
-- CreateTable
CREATE TABLE "MetricPoint" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "taskUid" TEXT NOT NULL,
    "stepName" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" REAL NOT NULL,
    "stepIndex" INTEGER NOT NULL,
    "at" DATETIME NOT NULL,
    CONSTRAINT "MetricPoint_taskUid_fkey" FOREIGN KEY ("taskUid") REFERENCES "Task" ("uid") ON DELETE CASCADE ON UPDATE CASCADE
);

-- AlterTable
ALTER TABLE "Task" ADD COLUMN "metricSummary" TEXT NOT NULL DEFAULT '{}';
ALTER TABLE "Task" ADD COLUMN "earlyStop" TEXT NOT NULL DEFAULT '';

-- CreateIndex
CREATE INDEX "MetricPoint_taskUid_key_stepIndex_id_idx" ON "MetricPoint"("taskUid", "key", "stepIndex", "id");
