-- The access policy as versioned data: each load is a new version, never changed in place; the
-- highest version is in force. `loaded_by` is the verified user (or `seed:<file>` at first start).
CREATE TABLE access_policy_versions (
  version      bigint      PRIMARY KEY,
  document     jsonb       NOT NULL,
  sha256       text        NOT NULL,
  loaded_at    timestamptz NOT NULL DEFAULT now(),
  loaded_by    text        NOT NULL,
  organisation text,
  reason       text        NOT NULL
);

-- Break-glass: a reasoned, time-limited override of the agreements for one child, by one user,
-- for a safeguarding emergency. Never changed in place; information governance reviews each.
CREATE TABLE break_glass_grants (
  id           uuid        PRIMARY KEY,
  user_id      text        NOT NULL,
  user_name    text,
  organisation text        NOT NULL,
  roles        text[]      NOT NULL,
  purpose      text        NOT NULL,
  child_key    text        NOT NULL,
  reason       text        NOT NULL,
  granted_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL CHECK (expires_at > granted_at)
);
CREATE INDEX break_glass_active ON break_glass_grants (user_id, child_key, expires_at);
CREATE INDEX break_glass_time ON break_glass_grants (granted_at);

CREATE FUNCTION access_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER access_policy_versions_append_only BEFORE UPDATE OR DELETE ON access_policy_versions
  FOR EACH ROW EXECUTE FUNCTION access_reject_change();
CREATE TRIGGER access_policy_versions_no_truncate BEFORE TRUNCATE ON access_policy_versions
  FOR EACH STATEMENT EXECUTE FUNCTION access_reject_change();
CREATE TRIGGER break_glass_grants_append_only BEFORE UPDATE OR DELETE ON break_glass_grants
  FOR EACH ROW EXECUTE FUNCTION access_reject_change();
CREATE TRIGGER break_glass_grants_no_truncate BEFORE TRUNCATE ON break_glass_grants
  FOR EACH STATEMENT EXECUTE FUNCTION access_reject_change();
