-- Decision 042: the linker rewrites a record's snapshot row at nearly every event of the record
-- (markSeen, libs/identity/linker-state.ts), so pages keep room for the new version on the same
-- page: a HOT update, with no new entry in the primary key. At 100 % a third of those updates
-- were not HOT on the 100,000-child store. Applies to pages written from now on (a rebuild
-- empties the table and refills it).
ALTER TABLE identity_subjects SET (fillfactor = 70);
