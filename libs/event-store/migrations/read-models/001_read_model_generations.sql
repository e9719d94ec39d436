-- Which generation of each rebuildable read model the apps read (docs/decisions/023-blue-green-rebuild.md).
-- A generation is a schema holding the read model's tables and its checkpoint; `public` is the first.
-- No row: the read model lives in public and nothing is being built.
CREATE TABLE read_model_generations (
  name              text        PRIMARY KEY,
  generation        int         NOT NULL DEFAULT 1,
  live_schema       text        NOT NULL DEFAULT 'public',
  -- The next generation while `rebuild` fills it; a crashed build resumes into it.
  building_schema   text,
  -- The generation the last switch retired, until it is dropped (grace period or `drop-old`).
  retired_schema    text,
  switched_at       timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
