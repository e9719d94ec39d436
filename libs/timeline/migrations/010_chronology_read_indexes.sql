-- Two parts of every chronology read (queries.ts CHRONOLOGY) grew with the store, not the child.
--
-- The keys merged into the child: without an index, a scan of every child (1.1 ms of a 4.3 ms
-- statement at 14,773 children; a 100,000-child store holds about 250,000).
CREATE INDEX children_merged_into ON children (merged_into) WHERE merged_into IS NOT NULL;

-- The identity events about the child's records: the GIN index kept new entries in its pending
-- list, which every search reads whole until a vacuum merges it (after a rebuild at 6,000
-- children all 14,731 rows were there: 0.8 ms a read, up to the 4 MB limit on a larger store).
-- Entries now go into the index as they are written (a few identity events in a hundred).
ALTER INDEX identity_history_subjects SET (fastupdate = off);
SELECT gin_clean_pending_list('identity_history_subjects');
