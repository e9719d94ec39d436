-- Events the agency services rejected, one row per rejected event, kept for information
-- governance (docs/decisions/012-gateway-rejections.md). The gateway notes each on the
-- gateway-rejections topic; the recorder inserts it here. No payload and no value from it:
-- publisher, source system and organisation, event type, and the failing rules with their
-- field paths (segments that could hold a value are masked by the gateway).
CREATE TABLE gateway_rejections (
  id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- the gateway's id for the note: a note delivered twice is kept once
  note_id             uuid        NOT NULL UNIQUE,
  agency              text        NOT NULL CHECK (agency IN ('health', 'education', 'social-care')),
  -- the publisher the agency service authenticated
  publisher           text        NOT NULL,
  source_system       text,
  source_organisation text,
  -- a type of the contracts, or 'unknown'
  event_type          text        NOT NULL,
  schema_version      integer,
  -- the distinct rules of `issues`, for counting by rule
  rules               text[]      NOT NULL,
  -- [{path, rule}], as the publisher was answered (no messages: they can quote values)
  issues              jsonb       NOT NULL,
  -- the gateway's clock when it answered the publisher
  rejected_at         timestamptz NOT NULL,
  recorded_at         timestamptz NOT NULL DEFAULT now(),
  -- where the note came from
  topic               text        NOT NULL,
  partition           integer     NOT NULL CHECK (partition >= 0),
  "offset"            bigint      NOT NULL CHECK ("offset" >= 0)
);

CREATE INDEX gateway_rejections_time ON gateway_rejections (rejected_at);

-- A record for governance: append-only, as the other audit tables. The apps' role cannot change
-- it anyway (grants.sql gives it SELECT and INSERT); the triggers refuse it to the owner too.
CREATE FUNCTION gateway_rejections_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'gateway_rejections is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER gateway_rejections_append_only_rows
  BEFORE UPDATE OR DELETE ON gateway_rejections
  FOR EACH ROW EXECUTE FUNCTION gateway_rejections_reject_change();

CREATE TRIGGER gateway_rejections_append_only_truncate
  BEFORE TRUNCATE ON gateway_rejections
  FOR EACH STATEMENT EXECUTE FUNCTION gateway_rejections_reject_change();

-- The flows report (GET /v1/governance/flows) counts dead letters and re-drives per day.
CREATE INDEX dead_letters_time ON dead_letters (dead_lettered_at);
CREATE INDEX dead_letters_redriven ON dead_letters (redriven_at) WHERE redriven_at IS NOT NULL;

-- A dead letter's bytes as JSON when they are JSON, else NULL: the flows report reads the source
-- organisation of the ones that are (a contract violation), never anything of the rest.
CREATE FUNCTION dead_letter_json(value bytea) RETURNS json
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
  RETURN convert_from(value, 'UTF8')::json;
EXCEPTION WHEN others THEN
  RETURN NULL;
END;
$$;
