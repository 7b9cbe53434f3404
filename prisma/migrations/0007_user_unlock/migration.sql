-- AlterTable
ALTER TABLE "User" ADD COLUMN "unlockedAt" DATETIME;
