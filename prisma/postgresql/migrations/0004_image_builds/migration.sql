-- AlterTable
ALTER TABLE "Image" ADD COLUMN     "buildUid" TEXT,
ADD COLUMN     "ownImage" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "ImageBuild" (
    "uid" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "imageDigest" TEXT,
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "workflowName" TEXT,
    "nodeId" TEXT,
    "podName" TEXT,
    "message" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "ImageBuild_pkey" PRIMARY KEY ("uid")
);

-- AddForeignKey
ALTER TABLE "Image" ADD CONSTRAINT "Image_buildUid_fkey" FOREIGN KEY ("buildUid") REFERENCES "ImageBuild"("uid") ON DELETE SET NULL ON UPDATE CASCADE;

