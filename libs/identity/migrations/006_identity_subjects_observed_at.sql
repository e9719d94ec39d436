-- Decision 043: when a record was last seen, in a column of its own. Nearly every event of a
-- record moves it and nothing else about the record (markSeen, libs/identity/linker-state.ts);
-- the linker then writes this column and the position only, instead of the whole snapshot as
-- JSON. The snapshot holds who the record is. Null in rows written before, whose snapshot
-- carries observedAt itself (the linker reads either): no rewrite of the table here.
ALTER TABLE identity_subjects ADD COLUMN observed_at text;
