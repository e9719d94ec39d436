-- What the access policy decides by, kept beside each entry so that a read never opens the
-- payload to decide: the special categories the event declared (UK GDPR art. 9 and the health
-- areas with their own sharing rules) and the organisation that recorded it (ODS code, school
-- URN or LA code). Entries projected before lack them: replay the store once (child keys come
-- out identical; the access log is kept).
ALTER TABLE timeline_entries
  ADD COLUMN special_categories text[] NOT NULL DEFAULT '{}',
  ADD COLUMN source_organisation text;

TRUNCATE children, subject_records, subject_identifiers, identity_links, identity_history,
  timeline_entries, projection_skipped_events;
UPDATE projection_checkpoints SET position = 0, skipped_events = 0, updated_at = now();
