-- What the apps' role (DATABASE_URL) may do with the recorder's tables; run by the owner after
-- every migrate, `:"app_role"` being that role (psql -v app_role=… -f reads it alike). Each table is
-- revoked and granted again in one transaction. See docs/decisions/011-database-roles.md.

-- A dead letter is kept as the recorder received it: inserted once, never deleted; a re-drive may
-- only fill in the redrive columns (002), never the message, its reason or its coordinates.
REVOKE ALL ON dead_letters FROM :"app_role";
GRANT SELECT, INSERT ON dead_letters TO :"app_role";
GRANT UPDATE (redriven_at, redriven_by, redrive_outcome, redriven_event_id, redriven_stream, redriven_position)
  ON dead_letters TO :"app_role";

-- Every re-drive request, whatever came of it: an audit trail, append-only (003).
REVOKE ALL ON dead_letter_redrive_attempts FROM :"app_role";
GRANT SELECT, INSERT ON dead_letter_redrive_attempts TO :"app_role";

-- Events the agency services rejected (004): a record for governance, append-only.
REVOKE ALL ON gateway_rejections FROM :"app_role";
GRANT SELECT, INSERT ON gateway_rejections TO :"app_role";
