-- A hash chain over access_log, so that a row changed or removed behind the append-only trigger
-- (by the table's owner, who can disable it) shows: `npm run audit:verify` walks the chain.
--   seq       gap-free order of the chain (1, 2, 3, …)
--   prev_hash the previous row's row_hash (32 zero bytes for seq 1)
--   row_hash  sha256(prev_hash || canonical bytes of the row)
-- The canonical form lists every content column in a fixed order as a JSON array (time as epoch
-- seconds, whatever the session's time zone). A migration adding a column to access_log must add
-- it to access_log_row_hash and to ACCESS_LOG_CHAIN in libs/timeline/audit-chain.ts alike.

ALTER TABLE access_log
  ADD COLUMN seq       bigint,
  ADD COLUMN prev_hash bytea,
  ADD COLUMN row_hash  bytea;

CREATE FUNCTION access_log_row_hash(prev bytea, r access_log) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT sha256(prev || convert_to(jsonb_build_array(
    r.seq, r.id, extract(epoch FROM r.accessed_at), r.user_id, r.user_role, r.purpose, r.action,
    r.requested_child_key, r.child_key, r.returned_entries, r.withheld, r.outcome
  )::text, 'UTF8'))
$$;

-- Rows already written are chained in id order; the append-only trigger is off for this
-- transaction only (ALTER TABLE holds the table exclusively until it commits).
ALTER TABLE access_log DISABLE TRIGGER access_log_append_only_rows;
DO $$
DECLARE
  r access_log;
  n bigint := 0;
  prev bytea := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
BEGIN
  FOR r IN SELECT * FROM access_log ORDER BY id LOOP
    n := n + 1;
    r.seq := n;
    r.prev_hash := prev;
    r.row_hash := access_log_row_hash(prev, r);
    UPDATE access_log SET seq = r.seq, prev_hash = r.prev_hash, row_hash = r.row_hash WHERE id = r.id;
    prev := r.row_hash;
  END LOOP;
END;
$$;
ALTER TABLE access_log ENABLE TRIGGER access_log_append_only_rows;

ALTER TABLE access_log
  ALTER COLUMN seq SET NOT NULL,
  ALTER COLUMN prev_hash SET NOT NULL,
  ALTER COLUMN row_hash SET NOT NULL;
CREATE UNIQUE INDEX access_log_seq ON access_log (seq);

-- Each insert links to the row before it. The transaction-scoped advisory lock puts concurrent
-- inserts in one order (held to commit, so the next insert reads this row); one index lookup
-- finds the last row. Audit rows are written in READ COMMITTED transactions.
CREATE FUNCTION access_log_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  last access_log;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('throughline.access_log.chain'));
  SELECT * INTO last FROM access_log ORDER BY seq DESC LIMIT 1;
  IF last.seq IS NULL THEN
    NEW.seq := 1;
    NEW.prev_hash := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
  ELSE
    NEW.seq := last.seq + 1;
    NEW.prev_hash := last.row_hash;
  END IF;
  NEW.row_hash := access_log_row_hash(NEW.prev_hash, NEW);
  RETURN NEW;
END;
$$;

CREATE TRIGGER access_log_chain
  BEFORE INSERT ON access_log
  FOR EACH ROW EXECUTE FUNCTION access_log_chain();
