-- AlterTable
ALTER TABLE "TokenAudit" ALTER COLUMN "id" SET DEFAULT gen_random_uuid()::text;
