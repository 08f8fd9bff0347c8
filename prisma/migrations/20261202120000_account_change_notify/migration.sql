-- Every change to who an account is, what role it holds or which tokens it accepts is announced
-- on the "account_changed" channel, with the user's id ("*": every user), when its transaction
-- commits, whoever wrote it: the API, a script, psql. Instances that keep accounts in memory drop
-- the entry (src/auth/account-cache.ts). Prisma's schema cannot express triggers: they live here only.
CREATE FUNCTION "notify_account_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('account_changed', '*');
  ELSE
    PERFORM pg_notify('account_changed', OLD."id"::text);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "users_account_changed"
  AFTER UPDATE OF "id", "username", "role", "session_version" OR DELETE ON "users"
  FOR EACH ROW EXECUTE FUNCTION "notify_account_changed"();

CREATE TRIGGER "users_truncated"
  AFTER TRUNCATE ON "users"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_account_changed"();
