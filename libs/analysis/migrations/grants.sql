-- What the apps' role (DATABASE_URL) may do with the analysis model's tables (decision 011):
-- rebuilt from the store (TRUNCATE, then replay), merged and split in place.
REVOKE ALL ON analysis_records, analysis_links, analysis_children, analysis_facts, analysis_ratings,
  analysis_skipped_events FROM :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON analysis_records, analysis_links, analysis_children,
  analysis_facts, analysis_ratings, analysis_skipped_events TO :"app_role";

-- The analysis model's checkpoint: moved on with every batch, reset by a rebuild; never deleted.
REVOKE ALL ON analysis_checkpoints FROM :"app_role";
GRANT SELECT, INSERT, UPDATE ON analysis_checkpoints TO :"app_role";
