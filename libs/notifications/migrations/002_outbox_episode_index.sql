-- Repeated reads of one child by one person for one purpose within a short window are one
-- access episode: the authority is told once (notifyIfNeeded, ACCESS_NOTIFICATION_COALESCE_MINUTES);
-- every read is still in the access log. This finds the episode's notification in one lookup.
CREATE INDEX access_notification_outbox_episode ON access_notification_outbox
  ((payload->>'childKey'), (payload->'accessor'->>'userId'), created_at);
