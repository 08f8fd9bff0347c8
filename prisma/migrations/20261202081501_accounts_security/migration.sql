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
-- automatically: the upgrade stops and names them, to be renamed first.
DO $$
DECLARE clashes text;
BEGIN
  SELECT string_agg(names, '; ') INTO clashes FROM (
    SELECT string_agg(username, ', ' ORDER BY id) AS names FROM "users" GROUP BY lower(username) HAVING count(*) > 1
  ) AS groups;
  IF clashes IS NOT NULL THEN
    RAISE EXCEPTION 'usernames that differ only in case must be renamed before this migration: %', clashes;
  END IF;
END $$;
CREATE UNIQUE INDEX "users_username_lower_key" ON "users" (lower("username"));
