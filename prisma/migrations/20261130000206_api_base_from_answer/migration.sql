-- AlterTable
ALTER TABLE "Account" ADD COLUMN     "apiBaseUrl" TEXT;
