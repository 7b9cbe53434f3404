-- AlterTable
ALTER TABLE "Image" ADD COLUMN     "reference" TEXT;

-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "metrics" TEXT NOT NULL DEFAULT '{}',
ADD COLUMN     "stepTokenExpires" TIMESTAMP(3),
ADD COLUMN     "stepTokenHash" TEXT;

