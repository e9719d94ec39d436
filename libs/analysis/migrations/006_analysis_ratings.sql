-- The outcome ratings as a narrow table of their own (decision 019): one row per rating with the
-- value already on 0–100, written beside its fact and moved with it when a merge or a split gives
-- the record another child (libs/analysis/model/apply-batch.ts). The outcome-ratings measure
-- reads every rating of the model (1.3 M at 10⁵ children): through migration 004's covering
-- index on the 7 M facts it took 2.2–2.6 s on a vacuumed real model and 3.2 s on one just rebuilt
-- (the index-only scan fetched the heap pages the visibility map did not yet cover). This table
-- is scanned whole, a third narrower than that index, whatever the state of the visibility map
-- (decision 019 has the figures).
CREATE TABLE analysis_ratings (
  position    bigint           PRIMARY KEY,
  pseudonym   text             NOT NULL,
  -- The first of the month the rating was observed in, as the fact's on_day.
  on_day      date             NOT NULL,
  agency      text             NOT NULL,
  perspective text,
  -- (rating - scale minimum) / (scale maximum - scale minimum) × 100.
  value       double precision NOT NULL
);

-- A model already built gets its ratings from its facts (the same rule as the batch's).
INSERT INTO analysis_ratings (position, pseudonym, on_day, agency, perspective, value)
SELECT position, pseudonym, on_day, agency, code, ((rating - scale_min) / (scale_max - scale_min) * 100)::float8
FROM analysis_facts
WHERE event_type = 'outcome.observation.recorded' AND rating IS NOT NULL AND scale_max > scale_min;

-- Migration 004's index and statistics served only that measure.
DROP INDEX analysis_facts_ratings;
DROP STATISTICS analysis_facts_rated;
