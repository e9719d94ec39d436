-- What the measures need to stay well under two seconds at 100,000 children (bench: the scale
-- stage's analysis.query.* figures; decision 019).
--
-- 1. A cohort narrowed by a characteristic filters `COALESCE(column, 'unknown') = ANY(…)`: without
--    statistics on those expressions the planner guesses 0.5 % of the children, and a cohort of
--    half of them was joined by nested loops (42 s for missing-from-care by sex at 100,000
--    children on a busy machine). Expression statistics give it the real share.
CREATE STATISTICS analysis_children_characteristics
  ON (COALESCE(sex, 'unknown')), (COALESCE(ethnicity_group, 'unknown')), (COALESCE(sen_status, 'unknown'))
  FROM analysis_children;

-- 2. The immunisation measures count a child only if health knows them (any fact from health):
--    one index-only probe per child instead of reading every fact of the child.
CREATE INDEX analysis_facts_child_agency ON analysis_facts (pseudonym, agency);

-- 3. Doses given: the immunisation facts of some vaccines, read from the index alone.
CREATE INDEX analysis_facts_type_code ON analysis_facts (event_type, code)
  INCLUDE (pseudonym, age_months, quantity, position);

-- 4. The period and age band of every unit: the same results as migration 001's functions, written
--    as single expressions so PostgreSQL inlines them into the measure's statement instead of
--    running a sub-select per call (at 244,000 units, 12 of a measure's 17 s went to these calls).
--    Only immutable functions inside (no date_trunc or to_char on dates, which are stable), or they
--    would not be inlined. `day - (day of month - 1)` is the first of the day's month.
CREATE OR REPLACE FUNCTION analysis_age_band(birth_month date, day date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN birth_month IS NULL OR day IS NULL THEN 'unknown'
    WHEN day - (extract(day FROM day)::int - 1) < birth_month THEN 'unborn'
    WHEN (extract(year FROM day)::int - extract(year FROM birth_month)::int) * 12
         + (extract(month FROM day)::int - extract(month FROM birth_month)::int) < 12 THEN 'under-1'
    WHEN (extract(year FROM day)::int - extract(year FROM birth_month)::int) * 12
         + (extract(month FROM day)::int - extract(month FROM birth_month)::int) < 60 THEN '1-4'
    WHEN (extract(year FROM day)::int - extract(year FROM birth_month)::int) * 12
         + (extract(month FROM day)::int - extract(month FROM birth_month)::int) < 120 THEN '5-9'
    WHEN (extract(year FROM day)::int - extract(year FROM birth_month)::int) * 12
         + (extract(month FROM day)::int - extract(month FROM birth_month)::int) < 192 THEN '10-15'
    WHEN (extract(year FROM day)::int - extract(year FROM birth_month)::int) * 12
         + (extract(month FROM day)::int - extract(month FROM birth_month)::int) < 216 THEN '16-17'
    ELSE '18-plus'
  END
$$;

CREATE OR REPLACE FUNCTION analysis_period(kind text, day date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE kind
    WHEN 'financial-year' THEN
      (extract(year FROM day)::int - CASE WHEN extract(month FROM day) < 4 THEN 1 ELSE 0 END)::text || '-' ||
      lpad(((extract(year FROM day)::int - CASE WHEN extract(month FROM day) < 4 THEN 1 ELSE 0 END + 1) % 100)::text, 2, '0')
    WHEN 'academic-year' THEN
      (extract(year FROM day)::int - CASE WHEN extract(month FROM day) < 9 THEN 1 ELSE 0 END)::text || '/' ||
      lpad(((extract(year FROM day)::int - CASE WHEN extract(month FROM day) < 9 THEN 1 ELSE 0 END + 1) % 100)::text, 2, '0')
    WHEN 'calendar-year' THEN extract(year FROM day)::int::text
    WHEN 'month' THEN
      lpad(extract(year FROM day)::int::text, 4, '0') || '-' || lpad(extract(month FROM day)::int::text, 2, '0')
    WHEN 'term' THEN
      (extract(year FROM day)::int - CASE WHEN extract(month FROM day) < 9 THEN 1 ELSE 0 END)::text || '/' ||
      lpad(((extract(year FROM day)::int - CASE WHEN extract(month FROM day) < 9 THEN 1 ELSE 0 END + 1) % 100)::text, 2, '0') ||
      ' ' || CASE WHEN extract(month FROM day) >= 9 THEN 'autumn' WHEN extract(month FROM day) <= 3 THEN 'spring' ELSE 'summer' END
  END
$$;
