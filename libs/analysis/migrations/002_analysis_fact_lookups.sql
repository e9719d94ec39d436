-- The measures look up a child's facts of one type by day (the latest referral before an
-- assessment, earlier plans, placements in a year): one index serves them all.
CREATE INDEX analysis_facts_child_type_day ON analysis_facts (pseudonym, event_type, on_day);
