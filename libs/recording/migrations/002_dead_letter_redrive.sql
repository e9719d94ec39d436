-- Re-driving a dead letter after a fix. The first successful re-drive is recorded on the row
-- (when, by whom, what became of the event); a re-drive that is still invalid leaves the row
-- as it was. Every request, whatever came of it, is kept in dead_letter_redrive_attempts.

ALTER TABLE dead_letters
  ADD COLUMN redriven_at       timestamptz,
  ADD COLUMN redriven_by       text,
  ADD COLUMN redrive_outcome   text CHECK (redrive_outcome IN ('stored', 'already-stored')),
  ADD COLUMN redriven_event_id text,
  ADD COLUMN redriven_stream   text,
  ADD COLUMN redriven_position bigint,
  ADD CONSTRAINT dead_letters_redrive_complete CHECK (
    (redriven_at IS NULL) = (redriven_by IS NULL) AND (redriven_at IS NULL) = (redrive_outcome IS NULL)
  );

CREATE TABLE dead_letter_redrive_attempts (
  id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dead_letter_id bigint      NOT NULL REFERENCES dead_letters (id),
  requested_by   text        NOT NULL,
  requested_at   timestamptz NOT NULL,
  outcome        text        NOT NULL
    CHECK (outcome IN ('stored', 'already-stored', 'already-redriven', 'still-invalid', 'store-rejected')),
  issues         jsonb       NOT NULL DEFAULT '[]'::jsonb
);

CREATE INDEX dead_letter_redrive_attempts_dead_letter ON dead_letter_redrive_attempts (dead_letter_id);
