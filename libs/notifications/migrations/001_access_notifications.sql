-- CP-IS-style access notifications (libs/notifications): the outbox the projection writes in
-- the same transaction as the access it reports, the social-care service's store of what it
-- received, and the record of who listed them.

-- Written beside the access log; the relay publishes unsent rows to Kafka and marks them sent.
-- A row is never deleted by the apps: sent_at says when Kafka acknowledged it.
CREATE TABLE access_notification_outbox (
  seq             bigserial   PRIMARY KEY,
  notification_id uuid        NOT NULL UNIQUE,
  -- LA code of the responsible authority: the Kafka key, so one authority's notifications keep their order
  local_authority text        NOT NULL,
  payload         jsonb       NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  topic           text,
  kafka_partition integer,
  kafka_offset    text,
  CHECK ((sent_at IS NULL) = (topic IS NULL))
);
CREATE INDEX access_notification_outbox_unsent ON access_notification_outbox (seq) WHERE sent_at IS NULL;

-- Wakes the relay at commit (it polls as well, so a lost NOTIFY only delays).
CREATE FUNCTION access_notification_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('access_notification_outbox', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER access_notification_outbox_notify
  AFTER INSERT ON access_notification_outbox
  FOR EACH STATEMENT EXECUTE FUNCTION access_notification_outbox_notify();

-- What the social-care service received, once per notification (delivery is at least once).
CREATE TABLE access_notifications (
  notification_id uuid        PRIMARY KEY,
  local_authority text        NOT NULL,
  occurred_at     timestamptz NOT NULL,
  payload         jsonb       NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now(),
  topic           text        NOT NULL,
  kafka_partition integer     NOT NULL,
  kafka_offset    text        NOT NULL
);
CREATE INDEX access_notifications_authority ON access_notifications (local_authority, occurred_at DESC, notification_id);

-- Who listed an authority's notifications, why, and what they got (refusals included).
-- Append-only and hash-chained like access_log (see libs/notifications/audit-chain.ts).
CREATE TABLE access_notification_reads (
  id                bigserial   PRIMARY KEY,
  read_at           timestamptz NOT NULL DEFAULT now(),
  user_id           text        NOT NULL,
  organisation_code text,
  organisation_type text,
  roles             text[]      NOT NULL,
  purpose           text,
  -- whose notifications were listed (null when refused before an authority was decided)
  local_authority   text,
  from_time         timestamptz,
  to_time           timestamptz,
  returned          integer     NOT NULL CHECK (returned >= 0),
  -- `ok`, or the error code of the refusal (FORBIDDEN, VALIDATION)
  outcome           text        NOT NULL,
  seq               bigint      NOT NULL,
  prev_hash         bytea       NOT NULL,
  row_hash          bytea       NOT NULL
);
CREATE UNIQUE INDEX access_notification_reads_seq ON access_notification_reads (seq);

CREATE FUNCTION access_notification_reads_row_hash(prev bytea, r access_notification_reads) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT sha256(prev || convert_to(jsonb_build_array(
    r.seq, r.id, extract(epoch FROM r.read_at), r.user_id, r.organisation_code, r.organisation_type,
    to_jsonb(r.roles), r.purpose, r.local_authority, extract(epoch FROM r.from_time),
    extract(epoch FROM r.to_time), r.returned, r.outcome
  )::text, 'UTF8'))
$$;

CREATE FUNCTION access_notification_reads_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  last access_notification_reads;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('throughline.access_notification_reads.chain'));
  SELECT * INTO last FROM access_notification_reads ORDER BY seq DESC LIMIT 1;
  IF last.seq IS NULL THEN
    NEW.seq := 1;
    NEW.prev_hash := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
  ELSE
    NEW.seq := last.seq + 1;
    NEW.prev_hash := last.row_hash;
  END IF;
  NEW.row_hash := access_notification_reads_row_hash(NEW.prev_hash, NEW);
  RETURN NEW;
END;
$$;

CREATE TRIGGER access_notification_reads_chain
  BEFORE INSERT ON access_notification_reads
  FOR EACH ROW EXECUTE FUNCTION access_notification_reads_chain();

CREATE FUNCTION access_notifications_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER access_notification_reads_append_only_rows
  BEFORE UPDATE OR DELETE ON access_notification_reads
  FOR EACH ROW EXECUTE FUNCTION access_notifications_reject_change();
CREATE TRIGGER access_notification_reads_append_only_truncate
  BEFORE TRUNCATE ON access_notification_reads
  FOR EACH STATEMENT EXECUTE FUNCTION access_notifications_reject_change();

CREATE TRIGGER access_notifications_append_only_rows
  BEFORE UPDATE OR DELETE ON access_notifications
  FOR EACH ROW EXECUTE FUNCTION access_notifications_reject_change();
CREATE TRIGGER access_notifications_append_only_truncate
  BEFORE TRUNCATE ON access_notifications
  FOR EACH STATEMENT EXECUTE FUNCTION access_notifications_reject_change();
