-- The linker reads a batch's state in one query per table and decides in memory, so the
-- tables must order record streams as the linker does: by code point (COLLATE "C"; the same
-- as before on a C or C.UTF-8 database, where the linker ran its queries one per event). It
-- also finds a batch's partners by either side of a pair, and the open proposals on the
-- pairs a batch links.

ALTER TABLE identity_subjects ALTER COLUMN stream_id TYPE text COLLATE "C";
ALTER TABLE identity_subject_keys ALTER COLUMN stream_id TYPE text COLLATE "C";
ALTER TABLE identity_pairs
  ALTER COLUMN subject_a TYPE text COLLATE "C",
  ALTER COLUMN subject_b TYPE text COLLATE "C";
ALTER TABLE identity_proposals
  ALTER COLUMN subject TYPE text COLLATE "C",
  ALTER COLUMN candidate TYPE text COLLATE "C";

CREATE INDEX identity_pairs_subject_b ON identity_pairs (subject_b);
CREATE INDEX identity_proposals_pair ON identity_proposals (least(subject, candidate), greatest(subject, candidate));
