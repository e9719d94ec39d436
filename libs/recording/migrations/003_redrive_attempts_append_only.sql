-- dead_letter_redrive_attempts is the audit trail of re-drive requests: append-only, as the other
-- audit tables. The apps' role cannot change it anyway (grants.sql gives it SELECT and INSERT);
-- the triggers refuse it to the owner too, unless the owner disables them.
CREATE FUNCTION dead_letter_redrive_attempts_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'dead_letter_redrive_attempts is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER dead_letter_redrive_attempts_append_only_rows
  BEFORE UPDATE OR DELETE ON dead_letter_redrive_attempts
  FOR EACH ROW EXECUTE FUNCTION dead_letter_redrive_attempts_reject_change();

CREATE TRIGGER dead_letter_redrive_attempts_append_only_truncate
  BEFORE TRUNCATE ON dead_letter_redrive_attempts
  FOR EACH STATEMENT EXECUTE FUNCTION dead_letter_redrive_attempts_reject_change();
