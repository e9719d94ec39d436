-- The agencies that hold a record of each child (decision 019): the immunisation measures count
-- only children known to health services, and probing every child's facts for one from health was
-- 1.6 s of the 6-in-1 measure at 283,000 children. Kept with the child's other characteristics
-- (libs/analysis/model/apply-batch.ts refreshChildren), filled here for a model already built.
ALTER TABLE analysis_children ADD COLUMN agencies text[] NOT NULL DEFAULT '{}';
UPDATE analysis_children c
SET agencies = a.agencies
FROM (SELECT pseudonym, array_agg(DISTINCT agency ORDER BY agency) AS agencies
      FROM analysis_records GROUP BY pseudonym) a
WHERE a.pseudonym = c.pseudonym;
