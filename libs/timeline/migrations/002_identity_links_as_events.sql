-- Identity links come from identity events (docs/decisions/005): a link is an edge between two
-- records, a child is a connected component of them. Read models, rebuilt from the store.

DROP TABLE identity_links;

CREATE TABLE identity_links (
  subject_a   text        NOT NULL,
  subject_b   text        NOT NULL,
  method      text        NOT NULL,
  evidence    jsonb       NOT NULL,
  linked_by   jsonb       NOT NULL,
  linked_at   timestamptz NOT NULL,
  position    bigint      NOT NULL,
  event_id    text        NOT NULL,
  PRIMARY KEY (subject_a, subject_b),
  CHECK (subject_a < subject_b)
);
CREATE INDEX identity_links_b ON identity_links (subject_b);

-- Every identity event, with the records it is about: a child's link history.
CREATE TABLE identity_history (
  position    bigint      PRIMARY KEY,
  event_id    text        NOT NULL,
  type        text        NOT NULL,
  subjects    text[]      NOT NULL,
  data        jsonb       NOT NULL,
  recorded_at timestamptz NOT NULL
);
CREATE INDEX identity_history_subjects ON identity_history USING gin (subjects);

CREATE UNIQUE INDEX children_founded_by ON children (founded_by_stream);

-- Children were decided inside the projection before: replay the store once to rebuild them
-- from identity events (the access log is kept).
TRUNCATE children, subject_records, subject_identifiers, timeline_entries, projection_skipped_events;
UPDATE projection_checkpoints SET position = 0, skipped_events = 0, updated_at = now();
