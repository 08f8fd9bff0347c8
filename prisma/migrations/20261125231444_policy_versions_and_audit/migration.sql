-- CreateTable
CREATE TABLE "policy_versions" (
    "version" INTEGER NOT NULL,
    "rules" JSONB NOT NULL,
    "table" JSONB NOT NULL,
    "author" VARCHAR(150) NOT NULL,
    "author_id" INTEGER,
    "message" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policy_versions_pkey" PRIMARY KEY ("version")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" SERIAL NOT NULL,
    "kind" VARCHAR(40) NOT NULL,
    "user_id" INTEGER,
    "username" VARCHAR(150),
    "action" VARCHAR(40),
    "subject" VARCHAR(60),
    "object_id" INTEGER,
    "rule_id" VARCHAR(100),
    "policy_version" INTEGER,
    "request_id" VARCHAR(100),
    "status" INTEGER,
    "detail" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_events_created_at_idx" ON "audit_events"("created_at");

-- CreateIndex
CREATE INDEX "audit_events_kind_created_at_idx" ON "audit_events"("kind", "created_at");

-- CreateIndex
CREATE INDEX "audit_events_user_id_created_at_idx" ON "audit_events"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "audit_events_subject_created_at_idx" ON "audit_events"("subject", "created_at");

-- CreateIndex
CREATE INDEX "audit_events_rule_id_created_at_idx" ON "audit_events"("rule_id", "created_at");
