-- Decision 042: each event of a record rewrites its row (last seen, dates of birth), so pages keep
-- room for the new version on the same page: a HOT update, with no new entry in the primary key
-- or in subject_records_child. Applies to pages written from now on; a rebuilt generation takes
-- it from the live table (beginGeneration copies storage parameters, decision 041).
ALTER TABLE subject_records SET (fillfactor = 70);
