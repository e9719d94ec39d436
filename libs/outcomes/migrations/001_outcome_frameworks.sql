-- Outcome frameworks as versioned data (decision 015): each change is a new version, never changed
-- in place; the highest version is in force. `loaded_by` is the verified user (or `seed:<file>`).
CREATE TABLE outcome_framework_versions (
  version      bigint      PRIMARY KEY,
  document     jsonb       NOT NULL,
  sha256       text        NOT NULL,
  loaded_at    timestamptz NOT NULL DEFAULT now(),
  loaded_by    text        NOT NULL,
  organisation text,
  reason       text        NOT NULL
);

CREATE FUNCTION outcomes_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER outcome_framework_versions_append_only BEFORE UPDATE OR DELETE ON outcome_framework_versions
  FOR EACH ROW EXECUTE FUNCTION outcomes_reject_change();
CREATE TRIGGER outcome_framework_versions_no_truncate BEFORE TRUNCATE ON outcome_framework_versions
  FOR EACH STATEMENT EXECUTE FUNCTION outcomes_reject_change();
