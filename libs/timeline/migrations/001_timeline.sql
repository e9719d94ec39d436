-- The timeline read models: identity links and the multi-agency chronology. Everything here
-- except access_log can be rebuilt from the event store (truncate + reset the checkpoint).

CREATE TABLE projection_checkpoints (
  name           text        PRIMARY KEY,
  -- last store position whose effects are in the read models (exclusive start of the next batch)
  position       bigint      NOT NULL DEFAULT 0 CHECK (position >= 0),
  skipped_events bigint      NOT NULL DEFAULT 0 CHECK (skipped_events >= 0),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Events the projection could not read as a contract (the recorder should have refused them).
CREATE TABLE projection_skipped_events (
  projection text        NOT NULL,
  position   bigint      NOT NULL,
  event_id   text        NOT NULL,
  stream_id  text        NOT NULL,
  type       text        NOT NULL,
  issues     jsonb       NOT NULL,
  skipped_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (projection, position)
);

-- One row per child ever founded; a merged child points at the child it became.
CREATE TABLE children (
  child_key           text   PRIMARY KEY,
  founded_by_stream   text   NOT NULL,
  founded_at_position bigint NOT NULL,
  merged_into         text,
  merged_at_position  bigint
);

CREATE TABLE subject_records (
  stream_id           text        PRIMARY KEY,
  agency              text        NOT NULL,
  record_id           text        NOT NULL,
  child_key           text        NOT NULL,
  first_seen_position bigint      NOT NULL,
  last_seen_position  bigint      NOT NULL,
  first_seen_at       timestamptz NOT NULL,
  last_seen_at        timestamptz NOT NULL
);
CREATE INDEX subject_records_child ON subject_records (child_key);

CREATE TABLE subject_identifiers (
  stream_id           text   NOT NULL,
  kind                text   NOT NULL CHECK (kind IN ('nhs-number', 'upn', 'former-upn')),
  value               text   NOT NULL,
  first_seen_position bigint NOT NULL,
  PRIMARY KEY (stream_id, kind, value)
);
CREATE INDEX subject_identifiers_value ON subject_identifiers (value);

-- How each record came to belong to its child; rewritten for a founding record when its child is merged.
CREATE TABLE identity_links (
  stream_id          text   PRIMARY KEY,
  child_key          text   NOT NULL,
  method             text   NOT NULL CHECK (method IN ('first-record', 'shared-nhs-number', 'shared-upn')),
  evidence_value     text,
  linked_at_position bigint NOT NULL,
  merged_from        text
);
CREATE INDEX identity_links_child ON identity_links (child_key);

-- Entries belong to records, not children, so a merge moves no entries.
CREATE TABLE timeline_entries (
  position          bigint      PRIMARY KEY,
  event_id          text        NOT NULL UNIQUE,
  stream_id         text        NOT NULL,
  agency            text        NOT NULL,
  type              text        NOT NULL,
  occurred_at       timestamptz NOT NULL,
  summary           text        NOT NULL,
  outcome_framework text        NOT NULL,
  outcome_domain    text        NOT NULL,
  details           jsonb       NOT NULL,
  lineage           jsonb       NOT NULL
);
CREATE INDEX timeline_entries_stream ON timeline_entries (stream_id, occurred_at, position);

-- Who looked at which child, for what purpose, what they got and what was withheld.
-- Not a read model: it survives a rebuild and is never changed in place.
CREATE TABLE access_log (
  id                  bigserial   PRIMARY KEY,
  accessed_at         timestamptz NOT NULL DEFAULT now(),
  user_id             text        NOT NULL,
  user_role           text,
  purpose             text        NOT NULL,
  action              text        NOT NULL CHECK (action IN ('lookup', 'timeline')),
  requested_child_key text,
  -- null when a lookup found no child
  child_key           text,
  returned_entries    integer     NOT NULL CHECK (returned_entries >= 0),
  withheld            jsonb       NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX access_log_child ON access_log (child_key, accessed_at);

CREATE FUNCTION access_log_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'access_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER access_log_append_only_rows
  BEFORE UPDATE OR DELETE ON access_log
  FOR EACH ROW EXECUTE FUNCTION access_log_reject_change();

CREATE TRIGGER access_log_append_only_truncate
  BEFORE TRUNCATE ON access_log
  FOR EACH STATEMENT EXECUTE FUNCTION access_log_reject_change();
