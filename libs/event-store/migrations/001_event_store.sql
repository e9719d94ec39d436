-- The event store: every event as recorded, in one global order.
-- `position` comes from a sequence but is allocated and committed under a transaction-scoped
-- advisory lock by the adapter (see libs/event-store/README.md), so readers never skip one.
-- Rolled-back appends burn sequence values: positions increase strictly but are not contiguous.
-- `metadata` is open on purpose: lineage now, an encrypted payload / key reference later.

CREATE SEQUENCE events_position_seq AS bigint;

CREATE TABLE events (
  position    bigint      PRIMARY KEY DEFAULT nextval('events_position_seq'),
  stream_id   text        NOT NULL CHECK (stream_id <> ''),
  revision    bigint      NOT NULL CHECK (revision >= 0),
  event_id    uuid        NOT NULL UNIQUE,
  type        text        NOT NULL CHECK (type <> ''),
  data        jsonb       NOT NULL,
  metadata    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, revision)
);

ALTER SEQUENCE events_position_seq OWNED BY events.position;

CREATE TABLE streams (
  stream_id text   PRIMARY KEY,
  -- revision of the last event in the stream (0-based)
  revision  bigint NOT NULL CHECK (revision >= 0)
);

CREATE TABLE checkpoints (
  name       text        PRIMARY KEY,
  value      text        NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The record is append-only: facts as recorded are never rewritten or removed in place.
CREATE FUNCTION events_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER events_append_only_rows
  BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_reject_change();

CREATE TRIGGER events_append_only_truncate
  BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change();
