-- Stream metadata, tombstones, and the indexes behind readCategory / readByType.
-- Events stay append-only: deleting a stream is metadata that reads apply, never a DELETE.

-- One row per stream that has metadata (EventStoreDB semantics, applied by readStream,
-- readCategory and readByType; readAll ignores it as EventStoreDB's $all does).
CREATE TABLE stream_metadata (
  stream_id       text        PRIMARY KEY CHECK (stream_id <> ''),
  max_age         bigint      CHECK (max_age > 0),          -- seconds
  max_count       bigint      CHECK (max_count > 0),
  truncate_before bigint      CHECK (truncate_before >= 0), -- soft delete: last revision + 1
  custom          jsonb,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Hard delete: a stream named here can never be read or appended to again.
CREATE TABLE stream_tombstones (
  stream_id     text        PRIMARY KEY CHECK (stream_id <> ''),
  tombstoned_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION stream_tombstones_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'stream_tombstones is permanent: % is not allowed', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER stream_tombstones_permanent_rows
  BEFORE UPDATE OR DELETE ON stream_tombstones
  FOR EACH ROW EXECUTE FUNCTION stream_tombstones_reject_change();

CREATE TRIGGER stream_tombstones_permanent_truncate
  BEFORE TRUNCATE ON stream_tombstones
  FOR EACH STATEMENT EXECUTE FUNCTION stream_tombstones_reject_change();

-- readCategory: `split_part(stream_id, '-', 1) = $category AND position > $after ORDER BY position`.
CREATE INDEX events_category_position ON events ((split_part(stream_id, '-', 1)), position);

-- readByType: `type = $type AND position > $after ORDER BY position`.
CREATE INDEX events_type_position ON events (type, position);
