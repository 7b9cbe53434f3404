-- Written by hand instead of Prisma's table rebuild: plain ADD COLUMNs are equivalent here and
-- run safely inside the migrator's transaction.
ALTER TABLE "Image" ADD COLUMN "reference" TEXT;
ALTER TABLE "Task" ADD COLUMN "stepTokenHash" TEXT;
ALTER TABLE "Task" ADD COLUMN "stepTokenExpires" DATETIME;
ALTER TABLE "Task" ADD COLUMN "metrics" TEXT NOT NULL DEFAULT '{}';
