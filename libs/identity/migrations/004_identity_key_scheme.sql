-- Which version of the linker's keys (keysOf, libs/identity/linker-state.ts) the rows of
-- identity_subject_keys were made by. The linker re-keys every record it knows at start-up
-- when its code makes later keys than this says (decision 027), so that a new record meets the
-- records already known under the new keys too. One row. Version 1: the keys before the
-- compound blocking keys.
CREATE TABLE identity_key_scheme (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  version  integer NOT NULL
);
INSERT INTO identity_key_scheme (version) VALUES (1);
