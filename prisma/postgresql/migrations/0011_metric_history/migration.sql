-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "earlyStop" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "metricSummary" TEXT NOT NULL DEFAULT '{}';

-- CreateTable
CREATE TABLE "MetricPoint" (
    "id" SERIAL NOT NULL,
    "taskUid" TEXT NOT NULL,
    "stepName" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "stepIndex" INTEGER NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "MetricPoint_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "MetricPoint_taskUid_key_stepIndex_id_idx" ON "MetricPoint"("taskUid", "key", "stepIndex", "id");

-- AddForeignKey
ALTER TABLE "MetricPoint" ADD CONSTRAINT "MetricPoint_taskUid_fkey" FOREIGN KEY ("taskUid") REFERENCES "Task"("uid") ON DELETE CASCADE ON UPDATE CASCADE;

