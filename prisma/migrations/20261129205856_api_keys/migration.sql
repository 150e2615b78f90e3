-- CreateTable
CREATE TABLE "ApiKey" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "scopes" TEXT[],
    "rate" INTEGER,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMPTZ(3),
    "lastUsedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TokenAudit" (
    "id" TEXT NOT NULL DEFAULT (gen_random_uuid())::text,
    "keyId" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "refreshed" BOOLEAN NOT NULL,
    "minTtl" INTEGER NOT NULL,
    "purpose" TEXT,

    CONSTRAINT "TokenAudit_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "TokenAudit_createdAt_idx" ON "TokenAudit"("createdAt");

-- CreateIndex
CREATE INDEX "TokenAudit_accountId_createdAt_idx" ON "TokenAudit"("accountId", "createdAt");

-- AddForeignKey
ALTER TABLE "TokenAudit" ADD CONSTRAINT "TokenAudit_keyId_fkey" FOREIGN KEY ("keyId") REFERENCES "ApiKey"("id") ON DELETE CASCADE ON UPDATE CASCADE;
