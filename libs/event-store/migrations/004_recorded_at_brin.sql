-- Information governance counts the events accepted per day (GET /v1/governance/flows): by the
-- time they were recorded. Positions and recorded_at rise together, so a BRIN index answers a
-- period by reading only the block ranges in it, at a few pages for millions of events.
CREATE INDEX IF NOT EXISTS events_recorded_at_brin ON events USING brin (recorded_at);
