-- What came of each access: `ok` (answered, found or not) or the error code of a refusal, e.g.
-- VALIDATION for a request refused at the edge for invalid text (recorded before the 400 left).
ALTER TABLE access_log ADD COLUMN outcome text NOT NULL DEFAULT 'ok';
