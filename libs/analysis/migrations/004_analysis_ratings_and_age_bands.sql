-- The outcome-ratings measure and age bands at 100,000 children (bench: the scale stage's
-- analysis.query.* figures; decision 019).
--
-- 1. A rating unit is a fact that is an outcome observation, is rated and has a scale with a
--    range. ANDed apart, the planner took the three conditions as independent and guessed a
--    twelfth of the 1.3 M ratings, then sorted them all on disk for merge joins. The measure
--    names the condition as one expression (`(…) IS TRUE`), which these statistics describe.
CREATE STATISTICS analysis_facts_rated
  ON ((event_type = 'outcome.observation.recorded' AND rating IS NOT NULL AND scale_max > scale_min))
  FROM analysis_facts;

-- 2. The ratings by child, read from the index alone: 1.3 M ratings among 7 M facts, in child order.
CREATE INDEX analysis_facts_ratings ON analysis_facts (pseudonym)
  INCLUDE (on_day, rating, scale_min, scale_max, agency, code)
  WHERE (event_type = 'outcome.observation.recorded' AND rating IS NOT NULL AND scale_max > scale_min) IS TRUE;

-- 3. Which codes each event type has (vaccines of immunisations, categories of exclusions): the
--    planner took type and code as independent and guessed a fortieth of the 6-in-1 doses.
CREATE STATISTICS analysis_facts_type_code_values (mcv, dependencies) ON event_type, code FROM analysis_facts;

-- 4. The age band with the age in months computed once (migration 003's form computed it up to six
--    times per call), in double precision rather than numeric: the same bands (compared with
--    migration 003's on 400,000 random dates and birth months), half the time. Still one
--    immutable expression, so it is inlined. A month before birth is `unborn`, an unknown date
--    `unknown`.
CREATE OR REPLACE FUNCTION analysis_age_band(birth_month date, day date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT COALESCE(
    ('{unborn,under-1,1-4,5-9,10-15,16-17,18-plus}'::text[])[
      width_bucket(
        ((date_part('year', day::timestamp) - date_part('year', birth_month::timestamp)) * 12
          + date_part('month', day::timestamp) - date_part('month', birth_month::timestamp))::int,
        '{0,12,60,120,192,216}'::int[]) + 1],
    'unknown')
$$;
