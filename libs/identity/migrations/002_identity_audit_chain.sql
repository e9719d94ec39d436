-- A hash chain over identity_audit_log, so that a row changed or removed behind the append-only
-- trigger (by the table's owner, who can disable it) shows: `npm run audit:verify` walks the chain.
--   seq       gap-free order of the chain (1, 2, 3, …)
--   prev_hash the previous row's row_hash (32 zero bytes for seq 1)
--   row_hash  sha256(prev_hash || canonical bytes of the row)
-- The canonical form lists every content column in a fixed order as a JSON array (time as epoch
-- seconds, whatever the session's time zone). A migration adding a column to identity_audit_log
-- must add it to identity_audit_log_row_hash and to IDENTITY_AUDIT_LOG_CHAIN in
-- libs/identity/audit-chain.ts alike.

ALTER TABLE identity_audit_log
  ADD COLUMN seq       bigint,
  ADD COLUMN prev_hash bytea,
  ADD COLUMN row_hash  bytea;

CREATE FUNCTION identity_audit_log_row_hash(prev bytea, r identity_audit_log) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT sha256(prev || convert_to(jsonb_build_array(
    r.seq, r.id, extract(epoch FROM r.at), r.user_id, r.user_role, r.purpose, r.action, r.target,
    r.outcome
  )::text, 'UTF8'))
$$;

-- Rows already written are chained in id order; the append-only trigger is off for this
-- transaction only (ALTER TABLE holds the table exclusively until it commits).
ALTER TABLE identity_audit_log DISABLE TRIGGER identity_audit_log_append_only_rows;
DO $$
DECLARE
  r identity_audit_log;
  n bigint := 0;
  prev bytea := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
BEGIN
  FOR r IN SELECT * FROM identity_audit_log ORDER BY id LOOP
    n := n + 1;
    r.seq := n;
    r.prev_hash := prev;
    r.row_hash := identity_audit_log_row_hash(prev, r);
    UPDATE identity_audit_log SET seq = r.seq, prev_hash = r.prev_hash, row_hash = r.row_hash WHERE id = r.id;
    prev := r.row_hash;
  END LOOP;
END;
$$;
ALTER TABLE identity_audit_log ENABLE TRIGGER identity_audit_log_append_only_rows;

ALTER TABLE identity_audit_log
  ALTER COLUMN seq SET NOT NULL,
  ALTER COLUMN prev_hash SET NOT NULL,
  ALTER COLUMN row_hash SET NOT NULL;
CREATE UNIQUE INDEX identity_audit_log_seq ON identity_audit_log (seq);

-- Each insert links to the row before it. The transaction-scoped advisory lock puts concurrent
-- inserts in one order (held to commit, so the next insert reads this row); one index lookup
-- finds the last row. Audit rows are written in READ COMMITTED transactions.
CREATE FUNCTION identity_audit_log_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  last identity_audit_log;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('throughline.identity_audit_log.chain'));
  SELECT * INTO last FROM identity_audit_log ORDER BY seq DESC LIMIT 1;
  IF last.seq IS NULL THEN
    NEW.seq := 1;
    NEW.prev_hash := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
  ELSE
    NEW.seq := last.seq + 1;
    NEW.prev_hash := last.row_hash;
  END IF;
  NEW.row_hash := identity_audit_log_row_hash(NEW.prev_hash, NEW);
  RETURN NEW;
END;
$$;

CREATE TRIGGER identity_audit_log_chain
  BEFORE INSERT ON identity_audit_log
  FOR EACH ROW EXECUTE FUNCTION identity_audit_log_chain();
