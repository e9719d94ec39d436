-- Decision 015: the timeline entry keeps everything the contracts record (indicators[], who
-- recorded it, a decision, a voice, a review or differing views whole, correlation and causation),
-- and each subject record keeps the date of birth (or, before birth, the expected date) that its
-- latest event giving one gave, so that ages can be read without opening the payloads. Both are
-- worked out by the projection, so the store is replayed once (as 006 did): the child keys come
-- out identical and the access log is kept.
ALTER TABLE subject_records
  ADD COLUMN date_of_birth date,
  ADD COLUMN expected_date_of_birth date;

TRUNCATE children, subject_records, subject_identifiers, identity_links, identity_history,
  timeline_entries, projection_skipped_events;
UPDATE projection_checkpoints SET position = 0, skipped_events = 0, updated_at = now();
