-- Planner statistics of a read model's tables, refreshed by its subscription runner as the model
-- grows (libs/event-store/subscription-runner.ts, docs/decisions/024-read-model-statistics.md).
-- ANALYZE is for a table's owner; the apps' role asks this function, which runs as the owner and
-- does nothing but ANALYZE the tables it is given, resolved by the caller (on the caller's
-- search_path, so a generation being built has its own tables analysed). It reads and changes no
-- row of them.
CREATE FUNCTION read_model_analyze(tables regclass[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  target regclass;
BEGIN
  FOREACH target IN ARRAY tables LOOP
    -- regclass prints schema-qualified and quoted where needed under this search_path.
    EXECUTE format('ANALYZE %s', target);
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION read_model_analyze(regclass[]) FROM PUBLIC;
