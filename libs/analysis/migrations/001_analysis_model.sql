-- The pseudonymised analysis model (issue 15, docs: libs/analysis/README.md). Rebuilt from the
-- store like every read model. Nothing here identifies a child: records and children are keyed
-- by keyed hashes (ANALYSIS_PSEUDONYM_KEY), dates are cut to the month unless a measure counts
-- days, postcodes to the district, and no narrative or free text is kept.

CREATE TABLE analysis_checkpoints (
  name           text        PRIMARY KEY,
  position       bigint      NOT NULL DEFAULT 0,
  skipped_events bigint      NOT NULL DEFAULT 0,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per agency record, under a keyed hash of its stream (never the stream or record id).
-- `own_pseudonym` is the pseudonym a child founded by this record carries, so a split can give
-- each part its founder's pseudonym without knowing the stream. Characteristics are the latest
-- the record's events gave, with the store position that gave them (the child takes the latest).
CREATE TABLE analysis_records (
  record_ref          text    PRIMARY KEY,
  own_pseudonym       text    NOT NULL UNIQUE,
  pseudonym           text    NOT NULL,
  agency              text    NOT NULL,
  first_seen_position bigint  NOT NULL,
  birth_month         date,
  unborn              boolean,
  birth_position      bigint,
  sex                 text,
  sex_position        bigint,
  ethnicity_group     text,
  ethnicity_position  bigint,
  sen_status          text,
  sen_day             date,
  sen_position        bigint,
  local_authority     text,
  la_position         bigint,
  postcode_district   text,
  postcode_position   bigint
);
CREATE INDEX analysis_records_pseudonym ON analysis_records (pseudonym);

-- Links between records from the identity events (record refs, ordered pair).
CREATE TABLE analysis_links (
  record_a text   NOT NULL,
  record_b text   NOT NULL,
  position bigint NOT NULL,
  PRIMARY KEY (record_a, record_b)
);
CREATE INDEX analysis_links_b ON analysis_links (record_b);

-- One row per child: characteristics as the analysis model holds them.
CREATE TABLE analysis_children (
  pseudonym         text PRIMARY KEY,
  birth_month       date,
  sex               text,
  ethnicity_group   text,
  sen_status        text,
  local_authority   text,
  postcode_district text
);

-- One row per agency event, its facts cut to what the measures need. `on_day` is the fact's
-- date: the day for the facts whose measures count days, else the first of its month.
CREATE TABLE analysis_facts (
  position          bigint  PRIMARY KEY,
  record_ref        text    NOT NULL,
  pseudonym         text    NOT NULL,
  agency            text    NOT NULL,
  event_type        text    NOT NULL,
  on_day            date    NOT NULL,
  -- The start of what the fact ends or completes (plan, assessment, period of care, EHC request).
  start_day         date,
  -- The end of an episode recorded whole (a missing episode), month-cut.
  end_day           date,
  -- A code from a national or project code list (vaccine, exclusion category, missing kind,
  -- reason for new episode, perspective, SEN provision).
  code              text,
  -- Outcome ratings: framework, domain and scale slugs (configured data, not free text).
  framework         text,
  domain            text,
  scale             text,
  rating            numeric,
  scale_min         numeric,
  scale_max         numeric,
  -- Attendance: the academic year (2023/24) and term, sessions possible and missed.
  academic_year     text,
  term              text,
  sessions_possible integer,
  sessions_missed   integer,
  -- Exclusion sessions, immunisation dose.
  quantity          integer,
  -- Immunisations: completed months of age on the day given (from the exact date of birth).
  age_months        integer,
  -- Social care: the local authority that recorded it (the source organisation's LA code).
  local_authority   text
);
CREATE INDEX analysis_facts_pseudonym ON analysis_facts (pseudonym);
CREATE INDEX analysis_facts_record ON analysis_facts (record_ref);
CREATE INDEX analysis_facts_type_day ON analysis_facts (event_type, on_day) INCLUDE (pseudonym);

-- Events the analysis model could not read as a contract (as the timeline keeps them), without their data.
CREATE TABLE analysis_skipped_events (
  position bigint PRIMARY KEY,
  type     text   NOT NULL,
  rules    text[] NOT NULL
);

-- Age band as DfE's releases publish them, from the birth month: completed years on `day`
-- counted by months (a child born in the month of `day` is as old as the month says).
CREATE FUNCTION analysis_age_band(birth_month date, day date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN birth_month IS NULL OR day IS NULL THEN 'unknown'
    WHEN date_trunc('month', day) < birth_month THEN 'unborn'
    ELSE (SELECT CASE
            WHEN m < 12 THEN 'under-1'
            WHEN m < 60 THEN '1-4'
            WHEN m < 120 THEN '5-9'
            WHEN m < 192 THEN '10-15'
            WHEN m < 216 THEN '16-17'
            ELSE '18-plus' END
          FROM (SELECT (extract(year FROM day)::int - extract(year FROM birth_month)::int) * 12
                     + (extract(month FROM day)::int - extract(month FROM birth_month)::int) AS m) AS age)
  END
$$;

-- The reporting period a day falls in: financial year 2023-24 (1 April–31 March), academic
-- year 2023/24 (1 September–31 August), calendar year 2023, term 2023/24 autumn (autumn
-- September–December, spring January–March, summer April–August, as libs/outcomes/calendar.ts),
-- month 2023-04.
CREATE FUNCTION analysis_period(kind text, day date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE kind
    WHEN 'financial-year' THEN
      (SELECT y::text || '-' || lpad(((y + 1) % 100)::text, 2, '0')
       FROM (SELECT extract(year FROM day)::int - CASE WHEN extract(month FROM day) < 4 THEN 1 ELSE 0 END AS y) AS t)
    WHEN 'academic-year' THEN
      (SELECT y::text || '/' || lpad(((y + 1) % 100)::text, 2, '0')
       FROM (SELECT extract(year FROM day)::int - CASE WHEN extract(month FROM day) < 9 THEN 1 ELSE 0 END AS y) AS t)
    WHEN 'calendar-year' THEN extract(year FROM day)::int::text
    WHEN 'month' THEN to_char(day, 'YYYY-MM')
    WHEN 'term' THEN
      (SELECT y::text || '/' || lpad(((y + 1) % 100)::text, 2, '0') || ' ' ||
              CASE WHEN m >= 9 THEN 'autumn' WHEN m <= 3 THEN 'spring' ELSE 'summer' END
       FROM (SELECT extract(year FROM day)::int - CASE WHEN extract(month FROM day) < 9 THEN 1 ELSE 0 END AS y,
                    extract(month FROM day)::int AS m) AS t)
  END
$$;
