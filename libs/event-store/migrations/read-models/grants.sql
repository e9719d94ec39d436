-- The apps' role reads which generation is live; only `npm run projection -- rebuild` (as the
-- owner) moves it. See docs/decisions/011-database-roles.md and 023-blue-green-rebuild.md.
REVOKE ALL ON read_model_generations FROM :"app_role";
GRANT SELECT ON read_model_generations TO :"app_role";

-- Read models' subscription runners refresh their tables' statistics as they grow (migration 002).
GRANT EXECUTE ON FUNCTION read_model_analyze(regclass[]) TO :"app_role";
