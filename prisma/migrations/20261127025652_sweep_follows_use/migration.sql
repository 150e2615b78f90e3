-- AlterTable
ALTER TABLE "Account" ADD COLUMN     "lastUsedAt" TIMESTAMPTZ(3),
ADD COLUMN     "nextSweepAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateIndex
CREATE INDEX "Account_status_nextSweepAt_idx" ON "Account"("status", "nextSweepAt");
