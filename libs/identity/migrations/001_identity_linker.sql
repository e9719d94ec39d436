-- The identity linker's own state: subject snapshots, candidate keys, pair decisions, the
-- proposals and conflicts people review, and its checkpoint. Written in one transaction per
-- batch. Everything except identity_audit_log can be rebuilt by replaying the store (the
-- linker appends nothing new when it does: its event ids are deterministic).

CREATE TABLE identity_linker_checkpoints (
  name       text        PRIMARY KEY,
  position   bigint      NOT NULL DEFAULT 0 CHECK (position >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE identity_subjects (
  stream_id             text   PRIMARY KEY,
  snapshot              jsonb  NOT NULL,
  first_seen_position   bigint NOT NULL,
  last_changed_position bigint NOT NULL
);

-- 'id:<namespace>:<value>' for every identifier a record has held (a former UPN is a UPN),
-- 'block:<key>' for the probabilistic blocking keys.
CREATE TABLE identity_subject_keys (
  key       text NOT NULL,
  stream_id text NOT NULL,
  PRIMARY KEY (key, stream_id)
);
CREATE INDEX identity_subject_keys_stream ON identity_subject_keys (stream_id);

-- The latest judgement on a pair of records (subject_a < subject_b). 'unlinked' and
-- 'rejected' are a person's: the linker never links such a pair again by itself.
CREATE TABLE identity_pairs (
  subject_a          text   NOT NULL,
  subject_b          text   NOT NULL,
  state              text   NOT NULL CHECK (state IN ('linked', 'proposed', 'rejected', 'unlinked', 'conflict')),
  changed_at_position bigint NOT NULL,
  PRIMARY KEY (subject_a, subject_b),
  CHECK (subject_a < subject_b)
);

CREATE TABLE identity_proposals (
  proposal_id       uuid        PRIMARY KEY,
  subject           text        NOT NULL,
  candidate         text        NOT NULL,
  score             double precision NOT NULL,
  threshold         double precision NOT NULL,
  evidence          jsonb       NOT NULL,
  status            text        NOT NULL CHECK (status IN ('open', 'confirmed', 'rejected', 'superseded')),
  proposed_at       timestamptz NOT NULL,
  decided_by        jsonb,
  decided_at        timestamptz,
  reason            text
);
CREATE INDEX identity_proposals_status ON identity_proposals (status, proposed_at);

CREATE TABLE identity_conflicts (
  conflict_id uuid        PRIMARY KEY,
  subject     text        NOT NULL,
  others      text[]      NOT NULL,
  rule        text        NOT NULL,
  detail      jsonb       NOT NULL,
  flagged_at  timestamptz NOT NULL
);

-- Who reviewed or changed identity links, when, why and with what outcome. Append-only.
CREATE TABLE identity_audit_log (
  id          bigserial   PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  user_id     text        NOT NULL,
  user_role   text,
  purpose     text        NOT NULL,
  action      text        NOT NULL CHECK (action IN ('list-proposals', 'confirm', 'reject', 'unlink', 'link', 'list-conflicts')),
  target      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  outcome     text        NOT NULL
);

CREATE FUNCTION identity_audit_log_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'identity_audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER identity_audit_log_append_only_rows
  BEFORE UPDATE OR DELETE ON identity_audit_log
  FOR EACH ROW EXECUTE FUNCTION identity_audit_log_reject_change();

CREATE TRIGGER identity_audit_log_append_only_truncate
  BEFORE TRUNCATE ON identity_audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION identity_audit_log_reject_change();
