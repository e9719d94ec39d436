-- What the apps' role (DATABASE_URL) may do with the event store; run by the owner after every
-- migrate (libs/platform/postgres.ts), `:"app_role"` being that role, exactly as psql would read it:
--   psql "$DATABASE_OWNER_URL" -v app_role=throughline_app -f libs/event-store/migrations/grants.sql
-- Each table is revoked and granted again in one transaction, so the rights are exactly these.
-- The record itself is append-only for the apps: SELECT and INSERT, never UPDATE, DELETE or
-- TRUNCATE (the triggers of 001/002 refuse those even to the owner, who alone can disable them).
-- Deleting a stream is metadata (stream_metadata.truncate_before) or a tombstone row: no event
-- is ever updated or deleted. See docs/decisions/011-database-roles.md.

REVOKE ALL ON events, stream_tombstones FROM :"app_role";
GRANT SELECT, INSERT ON events, stream_tombstones TO :"app_role";

-- Moved on by every append (each stream's last revision, checkpoints written with the events)
-- and by setStreamMetadata / soft delete: upserts, never deleted.
REVOKE ALL ON streams, checkpoints, stream_metadata FROM :"app_role";
GRANT SELECT, INSERT, UPDATE ON streams, checkpoints, stream_metadata TO :"app_role";

-- nextval for positions drawn under the append lock; never setval (UPDATE), which could reuse one.
REVOKE ALL ON SEQUENCE events_position_seq FROM :"app_role";
GRANT USAGE ON SEQUENCE events_position_seq TO :"app_role";

-- The append functions run as the caller (SECURITY INVOKER), with the rights above.
GRANT EXECUTE ON FUNCTION
  event_store_append_fresh(text[], bigint[], int[], uuid[], text[], text[], text[], text[], text[], text),
  event_store_lock_and_lookup(uuid[], text[], int),
  event_store_lock_streams(text[])
  TO :"app_role";
