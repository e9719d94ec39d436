-- Timeline entries are built from stored events upcast to the current version of their type
-- (contracts/src/upcast.ts), and their lineage carries the stored and the read version. Rows
-- projected before were built from the stored version: replay the store once so that every
-- entry is built the same way (child keys come out identical; the access log is kept).
TRUNCATE children, subject_records, subject_identifiers, identity_links, identity_history,
  timeline_entries, projection_skipped_events;
UPDATE projection_checkpoints SET position = 0, skipped_events = 0, updated_at = now();
