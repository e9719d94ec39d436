-- What the apps' role (DATABASE_URL) may do with the access notifications' tables; run by the
-- owner after every migrate, `:"app_role"` being that role (psql -v app_role=… -f reads it alike).
-- Each table is revoked and granted again in one transaction. See docs/decisions/011-database-roles.md.

-- The outbox: written beside the access it reports; the relay claims unsent rows (FOR UPDATE
-- SKIP LOCKED needs UPDATE) and may only mark them sent, never change what they say or delete them.
REVOKE ALL ON access_notification_outbox FROM :"app_role";
GRANT SELECT, INSERT ON access_notification_outbox TO :"app_role";
GRANT UPDATE (sent_at, topic, kafka_partition, kafka_offset) ON access_notification_outbox TO :"app_role";

-- What the social-care service received, and who listed it: append-only (the second hash-chained).
REVOKE ALL ON access_notifications, access_notification_reads FROM :"app_role";
GRANT SELECT, INSERT ON access_notifications, access_notification_reads TO :"app_role";
