-- Messages the recorder could not store, with the reason, kept byte for byte so they can be
-- inspected and re-driven. One row per Kafka coordinate: a redelivered poison message
-- (crash between dead-lettering and the offset commit) lands on the same row.

CREATE TABLE dead_letters (
  id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic            text        NOT NULL,
  partition        integer     NOT NULL CHECK (partition >= 0),
  "offset"         bigint      NOT NULL CHECK ("offset" >= 0),
  message_key      text,
  value            bytea,
  headers          jsonb       NOT NULL DEFAULT '{}'::jsonb,
  reason           text        NOT NULL,
  issues           jsonb       NOT NULL DEFAULT '[]'::jsonb,
  dead_lettered_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (topic, partition, "offset")
);

CREATE INDEX dead_letters_reason ON dead_letters (reason);
