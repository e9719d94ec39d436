-- The analysis API's own record of what each analyst was answered (issue 15, differencing rule):
-- the query's definition and its cohort's exact size. The size never leaves the server: it is
-- kept only so that a later cohort differing from an answered one by fewer than the suppression
-- threshold can be refused. Append-only for the apps' role (the baseline grants SELECT, INSERT),
-- and not part of the analysis model: a rebuild of the model keeps it.
CREATE TABLE analysis_query_log (
  seq                bigserial   PRIMARY KEY,
  -- The verified user (the token's subject), as in the access log.
  analyst            text        NOT NULL,
  measure            text        NOT NULL,
  -- sha256 of the cohort's canonical JSON: the same definition asked again is the same cohort.
  -- Sizes are compared within one measure (a size is the measure's population in the cohort).
  cohort_fingerprint text        NOT NULL,
  cohort             jsonb       NOT NULL,
  cohort_size        integer     NOT NULL CHECK (cohort_size >= 0),
  -- What was released: a query (json) or an export (csv, parquet).
  released_as        text        NOT NULL,
  answered_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX analysis_query_log_analyst ON analysis_query_log (analyst, measure, cohort_size);

CREATE FUNCTION analysis_query_log_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER analysis_query_log_append_only BEFORE UPDATE OR DELETE ON analysis_query_log
  FOR EACH ROW EXECUTE FUNCTION analysis_query_log_reject_change();
CREATE TRIGGER analysis_query_log_no_truncate BEFORE TRUNCATE ON analysis_query_log
  FOR EACH STATEMENT EXECUTE FUNCTION analysis_query_log_reject_change();
