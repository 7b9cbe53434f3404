-- AlterTable
ALTER TABLE "Model" ADD COLUMN     "bookmarked" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "ModelAlias" (
    "applicationUid" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "modelUid" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "updatedByUid" TEXT NOT NULL,

    CONSTRAINT "ModelAlias_pkey" PRIMARY KEY ("applicationUid","alias")
);

-- CreateTable
CREATE TABLE "ModelAliasMove" (
    "id" SERIAL NOT NULL,
    "applicationUid" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "modelUid" TEXT,
    "previousModelUid" TEXT,
    "byUid" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ModelAliasMove_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ModelAlias_modelUid_idx" ON "ModelAlias"("modelUid");

-- CreateIndex
CREATE INDEX "ModelAliasMove_applicationUid_id_idx" ON "ModelAliasMove"("applicationUid", "id");

