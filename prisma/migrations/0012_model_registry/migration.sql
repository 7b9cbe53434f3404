-- Written by hand instead of Prisma's table rebuild: a plain ADD COLUMN is equivalent here and
-- runs safely inside the migrator's transaction.
-- CreateTable
CREATE TABLE "ModelAlias" (
    "applicationUid" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "modelUid" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    "updatedByUid" TEXT NOT NULL,

    PRIMARY KEY ("applicationUid", "alias")
);

-- CreateTable
CREATE TABLE "ModelAliasMove" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "applicationUid" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "modelUid" TEXT,
    "previousModelUid" TEXT,
    "byUid" TEXT NOT NULL,
    "at" DATETIME NOT NULL
);

-- AlterTable
ALTER TABLE "Model" ADD COLUMN "bookmarked" BOOLEAN NOT NULL DEFAULT false;


-- CreateIndex
CREATE INDEX "ModelAlias_modelUid_idx" ON "ModelAlias"("modelUid");

-- CreateIndex
CREATE INDEX "ModelAliasMove_applicationUid_id_idx" ON "ModelAliasMove"("applicationUid", "id");
