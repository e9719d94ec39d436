-- Decision 041: nearly every event rewrites its record's row (each characteristic keeps the
-- position it was last given at), so pages keep room for the new version on the same page: a
-- HOT update, with no new entry in the table's three indexes. Applies to pages written from now
-- on; a rebuilt generation takes it from the live table (beginGeneration copies storage parameters).
ALTER TABLE analysis_records SET (fillfactor = 70);
