-- Written by hand instead of Prisma's table rebuild: plain ADD COLUMNs are equivalent here and
-- run safely inside the migrator's transaction.
-- CreateTable
CREATE TABLE "ImageBuild" (
    "uid" TEXT NOT NULL PRIMARY KEY,
    "state" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "imageDigest" TEXT,
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "workflowName" TEXT,
    "nodeId" TEXT,
    "podName" TEXT,
    "message" TEXT NOT NULL DEFAULT '',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" DATETIME
);

-- AlterTable
ALTER TABLE "Image" ADD COLUMN "buildUid" TEXT REFERENCES "ImageBuild" ("uid") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Image" ADD COLUMN "ownImage" BOOLEAN NOT NULL DEFAULT false;
