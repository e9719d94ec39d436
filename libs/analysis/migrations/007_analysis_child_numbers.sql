-- A number per child for the outcome-ratings measure (decision 019): the store position at
-- which the child's founding record was first seen (analysis_records.first_seen_position of the
-- record whose own pseudonym the child carries). One event belongs to one stream, so no two records
-- share it; it lasts as long as the child does, as the pseudonym does. The measure joins 1.3 M
-- ratings to the cohort and groups them per child at 10⁵ children: by the 64-character pseudonym
-- that hashing and sorting took a quarter to a third of its time. The model keeps positions
-- already (every fact's and rating's key), so the number tells nothing the model did not. It is
-- not the timeline's child key, and no analyst sees it: answers are cells, never rows.
ALTER TABLE analysis_children ADD COLUMN child_number bigint;
UPDATE analysis_children c
SET child_number = r.first_seen_position
FROM analysis_records r
WHERE r.own_pseudonym = c.pseudonym;
ALTER TABLE analysis_children ALTER COLUMN child_number SET NOT NULL;
CREATE UNIQUE INDEX analysis_children_child_number ON analysis_children (child_number);

-- The ratings carry the number instead of the pseudonym, which was more than half of each row. A
-- model migrated in place keeps the dropped column's bytes in its rows until it is rebuilt
-- (npm run projection -- rebuild analysis); a model built after this migration never has them.
ALTER TABLE analysis_ratings ADD COLUMN child_number bigint;
UPDATE analysis_ratings x
SET child_number = c.child_number
FROM analysis_children c
WHERE c.pseudonym = x.pseudonym;
ALTER TABLE analysis_ratings ALTER COLUMN child_number SET NOT NULL;
ALTER TABLE analysis_ratings DROP COLUMN pseudonym;
