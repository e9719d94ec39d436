-- What writing a timeline entry costs PostgreSQL (decision 035). An entry is written once, in
-- store order, and read whole; two things made each write dearer than the reads need:
--
-- 1. Its event id was kept unique by an index of its own that no read uses: every read of
--    entries goes by record (timeline_entries_stream), by position (the primary key) or by type
--    (timeline_entries_practice_decisions). The store holds each event id once (its own unique
--    index) and each event at one position, so the primary key keeps an event's entry single.
--    The index cost every entry an insert at a random place of a B-tree of text UUIDs (about 70
--    bytes an entry on disk).
-- 2. Its details and lineage were jsonb: every entry's two documents parsed into jsonb's binary
--    form on the way in and printed back to text on every read, for reads that take them whole
--    (the chronology) or pick a few members of a few hundred decisions (reviews due). As json
--    they are checked and kept as written: a COPY of 140,161 entries took 1.5-1.8 s instead of
--    2.3-2.7 s, and 8 % less space. Members are read in insertion order instead of jsonb's.
--
-- In place on an existing model (the table is rewritten once, its rows kept); a new generation
-- (npm run projection -- rebuild timeline) is built with it from the start.
ALTER TABLE timeline_entries DROP CONSTRAINT timeline_entries_event_id_key;
ALTER TABLE timeline_entries
  ALTER COLUMN details TYPE json USING details::json,
  ALTER COLUMN lineage TYPE json USING lineage::json;
