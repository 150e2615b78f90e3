-- CreateTable
CREATE TABLE "ConsentLinkUse" (
    "jti" TEXT NOT NULL,
    "usedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ConsentLinkUse_pkey" PRIMARY KEY ("jti")
);

-- CreateIndex
CREATE INDEX "ConsentLinkUse_expiresAt_idx" ON "ConsentLinkUse"("expiresAt");
