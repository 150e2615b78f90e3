-- AlterTable
ALTER TABLE "Account" ADD COLUMN     "reauthBy" TIMESTAMPTZ(3),
ADD COLUMN     "reauthWarnedAt" TIMESTAMPTZ(3),
ADD COLUMN     "refreshTokenExpiresAt" TIMESTAMPTZ(3),
ALTER COLUMN "expires_at" SET DATA TYPE BIGINT;

-- CreateTable
CREATE TABLE "ProviderPause" (
    "provider" TEXT NOT NULL,
    "error" TEXT NOT NULL,
    "pausedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "pausedUntil" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ProviderPause_pkey" PRIMARY KEY ("provider")
);
