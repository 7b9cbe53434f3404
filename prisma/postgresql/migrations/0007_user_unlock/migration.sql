-- AlterTable
ALTER TABLE "User" ADD COLUMN     "unlockedAt" TIMESTAMP(3);
