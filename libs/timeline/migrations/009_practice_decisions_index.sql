-- Decisions and their reviews are read across children (GET /v1/reviews/due, libs/outcomes
-- reviews-due.ts): a partial index finds them without scanning every entry of every child.
CREATE INDEX timeline_entries_practice_decisions ON timeline_entries (type, position)
  WHERE type IN ('practice.decision.recorded', 'practice.decision.reviewed');
