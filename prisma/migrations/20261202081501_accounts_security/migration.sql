-- AlterTable
ALTER TABLE "users" ADD COLUMN     "session_version" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "rate_limits" (
    "key" VARCHAR(400) NOT NULL,
    "count" INTEGER NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "rate_limits_expires_at_idx" ON "rate_limits"("expires_at");

-- Usernames are one account whatever their case. Prisma's schema cannot express an index on an
-- expression, so it lives here only. Accounts that already differ only in case cannot be merged
-- automatically: the index then fails to build, naming the duplicated name, to be renamed first.
CREATE UNIQUE INDEX "users_username_lower_key" ON "users" (lower("username"));
