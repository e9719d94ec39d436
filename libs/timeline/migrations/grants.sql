-- What the apps' role (DATABASE_URL) may do with the timeline's tables; run by the owner after
-- every migrate, `:"app_role"` being that role (psql -v app_role=… -f reads it alike). Each table is
-- revoked and granted again in one transaction. See docs/decisions/011-database-roles.md.
-- A table added by a later migration and not named here gets SELECT and INSERT only (the default
-- privileges the owner sets): name it here if the projection must change or empty it.

-- Who read which child, why, and what was withheld: append-only and hash-chained (005).
REVOKE ALL ON access_log FROM :"app_role";
GRANT SELECT, INSERT ON access_log TO :"app_role";

-- The read models: rebuilt from the store (TRUNCATE, then replay), merged and split in place.
REVOKE ALL ON children, subject_records, subject_identifiers, identity_links, identity_history,
  timeline_entries, projection_skipped_events FROM :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON children, subject_records, subject_identifiers,
  identity_links, identity_history, timeline_entries, projection_skipped_events TO :"app_role";

-- The projection's checkpoint: moved on with every batch, reset by a rebuild; never deleted.
REVOKE ALL ON projection_checkpoints FROM :"app_role";
GRANT SELECT, INSERT, UPDATE ON projection_checkpoints TO :"app_role";
