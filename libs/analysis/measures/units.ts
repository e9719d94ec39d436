/**
 * Each measure as the SQL of its units over the analysis model: one row per unit (a referral, a
 * plan, a child at 31 March, a child's term…) with the columns the aggregation reads:
 *
 *   pseudonym (or child_number: UNITS_CHILD_COLUMN), unit_day (age is taken on it), period_day (the
 *   period is taken from it), hit (proportions: the unit meets the condition), value (means),
 *   local_authority, agency, perspective, relative_term.
 *
 * Each query may read the CTE `cohort(pseudonym, …)` (the cohort's children). Set-based: one
 * statement per query, whatever the number of children.
 */

const F = 'analysis_facts';

/** Distinct facts of a type per child and day, within the cohort. */
const distinctFacts = (type: string, extra = '') => `
  SELECT DISTINCT ON (f.pseudonym, f.on_day${extra ? `, ${extra}` : ''})
         f.pseudonym, f.on_day, f.start_day, f.quantity, f.local_authority
  FROM ${F} f JOIN cohort USING (pseudonym)
  WHERE f.event_type = '${type}'
  ORDER BY f.pseudonym, f.on_day${extra ? `, ${extra}` : ''}, f.position DESC`;

const latestReferralBefore = (alias: string, day: string) => `
  SELECT r.on_day FROM ${F} r
  WHERE r.pseudonym = ${alias}.pseudonym AND r.event_type = 'social-care.referral.received' AND r.on_day <= ${day}
  ORDER BY r.on_day DESC LIMIT 1`;

const referralTo = (type: string, from: string) => `
  SELECT u.pseudonym, u.on_day AS unit_day, u.on_day AS period_day, NULL::boolean AS hit,
         (u.on_day - ref.on_day)::numeric AS value, u.local_authority, 'social-care' AS agency,
         NULL::text AS perspective, NULL::int AS relative_term
  FROM (${distinctFacts(type, 'f.start_day')}) u
  JOIN LATERAL (${latestReferralBefore('u', from)}) ref ON true`;

/** The term index of a day (autumn 1 Sep, spring 1 Jan, summer 1 Apr), three a year. */
const termIndex = (day: string) => `
  ((extract(year FROM ${day})::int - CASE WHEN extract(month FROM ${day}) < 9 THEN 1 ELSE 0 END) * 3
   + CASE WHEN extract(month FROM ${day}) >= 9 THEN 0 WHEN extract(month FROM ${day}) <= 3 THEN 1 ELSE 2 END)`;

const attendanceAround = (type: string) => `
  WITH aligned AS (
    SELECT f.pseudonym, min(f.on_day) AS on_day FROM ${F} f JOIN cohort USING (pseudonym)
    WHERE f.event_type = '${type}' GROUP BY f.pseudonym
  ), attendance AS (
    -- A record's latest summary of a term replaces its earlier ones (a correction).
    SELECT DISTINCT ON (f.record_ref, f.academic_year, f.term)
           f.pseudonym, f.on_day, f.sessions_possible, f.sessions_missed
    FROM ${F} f JOIN aligned USING (pseudonym)
    WHERE f.event_type = 'education.attendance.summarised'
    ORDER BY f.record_ref, f.academic_year, f.term, f.position DESC
  ), terms AS (
    SELECT t.pseudonym, t.on_day, ${termIndex('t.on_day')} - ${termIndex('a.on_day')} AS relative_term,
           sum(t.sessions_possible) AS possible, sum(t.sessions_missed) AS missed
    FROM attendance t JOIN aligned a USING (pseudonym)
    GROUP BY t.pseudonym, t.on_day, a.on_day
  )
  SELECT pseudonym, on_day AS unit_day, on_day AS period_day,
         (possible > 0 AND missed * 10 >= possible) AS hit, NULL::numeric AS value,
         NULL::text AS local_authority, 'education' AS agency, NULL::text AS perspective, relative_term
  FROM terms WHERE relative_term BETWEEN -4 AND 6 AND possible > 0`;

const exclusions = (categories: string) => `
  SELECT f.pseudonym, f.on_day AS unit_day, f.on_day AS period_day, NULL::boolean AS hit, NULL::numeric AS value,
         NULL::text AS local_authority, 'education' AS agency, NULL::text AS perspective, NULL::int AS relative_term
  FROM ${F} f JOIN cohort USING (pseudonym)
  WHERE f.event_type = 'education.exclusion.recorded' AND f.code IN (${categories})`;

/** Financial years (their 31 March) in which the given types have facts. */
const yearEnds = (types: string) => `
  SELECT DISTINCT make_date(extract(year FROM f.on_day)::int + CASE WHEN extract(month FROM f.on_day) >= 4 THEN 1 ELSE 0 END, 3, 31) AS year_end
  FROM ${F} f WHERE f.event_type IN (${types})`;

/**
 * CTEs `starts` and `periods(pseudonym, started, ended)`: the cohort's periods of care, each from
 * a looked-after start to the first end on or after it (open when there is none).
 */
const carePeriods = `
  starts AS (
    SELECT DISTINCT f.pseudonym, f.on_day AS started FROM ${F} f JOIN cohort USING (pseudonym)
    WHERE f.event_type = 'social-care.looked-after-episode.started'
  ), periods AS (
    SELECT s.pseudonym, s.started,
           (SELECT min(e.on_day) FROM ${F} e WHERE e.pseudonym = s.pseudonym
              AND e.event_type = 'social-care.looked-after-episode.ended' AND e.on_day >= s.started) AS ended
    FROM starts s
  )`;

const placementStability = `
  WITH ${carePeriods}, years AS (${yearEnds("'social-care.looked-after-episode.started', 'social-care.looked-after-episode.changed', 'social-care.looked-after-episode.ended'")}
  ), at_year_end AS (
    SELECT DISTINCT p.pseudonym, y.year_end FROM periods p JOIN years y
      ON p.started <= y.year_end AND (p.ended IS NULL OR p.ended > y.year_end)
  ), held AS (
    -- Placements held on 1 April: the periods of care open then (joined, not a sub-select per
    -- child and year, which scanned every period once per unit: 6 s at 10⁵ children).
    SELECT a.pseudonym, a.year_end, count(*) AS placements
    FROM at_year_end a JOIN periods p USING (pseudonym)
    WHERE p.started < a.year_end - interval '1 year' + interval '1 day'
      AND (p.ended IS NULL OR p.ended >= (a.year_end - interval '1 year' + interval '1 day')::date)
    GROUP BY a.pseudonym, a.year_end
  ), moves AS (
    -- New placements in the year: starts, and changes of placement (P) or of both (B), one a day.
    SELECT a.pseudonym, a.year_end, count(DISTINCT f.on_day) AS placements
    FROM at_year_end a JOIN ${F} f USING (pseudonym)
    WHERE ((f.event_type = 'social-care.looked-after-episode.started')
           OR (f.event_type = 'social-care.looked-after-episode.changed' AND f.code IN ('P', 'B')))
      AND f.on_day > (a.year_end - interval '1 year')::date AND f.on_day <= a.year_end
    GROUP BY a.pseudonym, a.year_end
  ), counted AS (
    SELECT a.pseudonym, a.year_end, COALESCE(h.placements, 0) + COALESCE(m.placements, 0) AS placements
    FROM at_year_end a
    LEFT JOIN held h USING (pseudonym, year_end)
    LEFT JOIN moves m USING (pseudonym, year_end)
  )
  SELECT pseudonym, year_end AS unit_day, year_end AS period_day, placements >= 3 AS hit, placements::numeric AS value,
         NULL::text AS local_authority, 'social-care' AS agency, NULL::text AS perspective, NULL::int AS relative_term
  FROM counted`;

/**
 * Missing episodes of children looked after when the episode started. The model keeps a missing
 * episode's month, not its day, so an episode counts when its month meets a period of care: one in
 * the month care started or ended is counted (the catalogue's caveat). A child missing from home
 * while not looked after is not counted.
 */
const missingFromCare = `
  WITH ${carePeriods}, episodes AS (
    SELECT f.pseudonym, f.on_day AS started, f.end_day AS ended FROM ${F} f JOIN cohort USING (pseudonym)
    WHERE f.event_type = 'social-care.missing-episode.recorded' AND f.code = 'M'
      AND EXISTS (SELECT 1 FROM periods p WHERE p.pseudonym = f.pseudonym
                    AND p.started < (f.on_day + interval '1 month')::date
                    AND (p.ended IS NULL OR p.ended >= f.on_day))
  ), years AS (${yearEnds("'social-care.missing-episode.recorded'")})
  SELECT DISTINCT e.pseudonym, y.year_end AS unit_day, y.year_end AS period_day, NULL::boolean AS hit,
         NULL::numeric AS value, NULL::text AS local_authority, 'social-care' AS agency, NULL::text AS perspective,
         NULL::int AS relative_term
  FROM episodes e JOIN years y
    ON e.started <= y.year_end AND (e.ended IS NULL OR e.ended > (y.year_end - interval '1 year')::date)`;

const ehcPlanTwentyWeeks = `
  SELECT u.pseudonym, u.on_day AS unit_day, u.on_day AS period_day,
         (u.on_day - COALESCE(u.start_day, req.on_day)) <= 140 AS hit,
         (u.on_day - COALESCE(u.start_day, req.on_day))::numeric AS value,
         NULL::text AS local_authority, 'education' AS agency, NULL::text AS perspective, NULL::int AS relative_term
  FROM (${distinctFacts('education.ehc-plan.issued')}) u
  LEFT JOIN LATERAL (
    SELECT r.on_day FROM ${F} r WHERE r.pseudonym = u.pseudonym
      AND r.event_type = 'education.ehc-needs-assessment.requested' AND r.on_day <= u.on_day
    ORDER BY r.on_day DESC LIMIT 1
  ) req ON true
  WHERE COALESCE(u.start_day, req.on_day) IS NOT NULL`;

const immunisation = (vaccines: readonly string[], doses: number, months: number) => `
  WITH known AS (
    -- Children health knows (a record from health: analysis_children.agencies), old enough. Read
    -- from the child's row: probing each child's facts for one from health was 1.6 s at 283,000.
    SELECT c.pseudonym, (c.birth_month + interval '${months} months')::date AS reached
    FROM cohort c
    WHERE c.birth_month IS NOT NULL AND (c.birth_month + interval '${months} months')::date <= current_date
      AND 'health' = ANY(c.agencies)
  ), doses AS (
    -- Doses before the age, each counted once (a dose number reported twice is one dose): all of
    -- them from the index, made distinct by hashing (count DISTINCT sorted every dose, on disk),
    -- then joined to the children once.
    SELECT DISTINCT f.pseudonym, COALESCE(f.quantity::text, f.position::text) AS dose
    FROM ${F} f
    WHERE f.event_type = 'health.immunisation.given'
      AND f.code IN (${vaccines.map((v) => `'${v}'`).join(', ')}) AND f.age_months < ${months}
  ), given AS (
    SELECT d.pseudonym, count(*) AS doses FROM doses d JOIN known k USING (pseudonym) GROUP BY d.pseudonym
  )
  SELECT k.pseudonym, k.reached AS unit_day, k.reached AS period_day,
         COALESCE(g.doses, 0) >= ${doses} AS hit,
         NULL::numeric AS value, NULL::text AS local_authority, 'health' AS agency, NULL::text AS perspective,
         NULL::int AS relative_term
  FROM known k LEFT JOIN given g USING (pseudonym)`;

/**
 * Every rating, on 0–100 by its own scale, from the model's narrow table of ratings (migration
 * 006) under its child's number (migration 007): not joined to the cohort here, the units
 * are joined to it once, where they are counted.
 */
const outcomeRatings = `
  SELECT r.child_number, r.on_day AS unit_day, r.on_day AS period_day, NULL::boolean AS hit, r.value,
         NULL::text AS local_authority, r.agency, r.perspective, NULL::int AS relative_term
  FROM analysis_ratings r`;

/** The units of each measure of the catalogue, by id. */
export const UNITS_SQL: Readonly<Record<string, string>> = {
  'referral-to-assessment-days': referralTo('social-care.assessment.completed', 'u.start_day'),
  'referral-to-cp-plan-days': referralTo('social-care.child-protection-plan.started', 'u.on_day'),
  're-referral-12-months': `
    SELECT u.pseudonym, u.on_day AS unit_day, u.on_day AS period_day,
           EXISTS (SELECT 1 FROM ${F} p WHERE p.pseudonym = u.pseudonym
                     AND p.event_type = 'social-care.referral.received'
                     AND p.on_day < u.on_day AND p.on_day >= (u.on_day - interval '12 months')::date) AS hit,
           NULL::numeric AS value, u.local_authority, 'social-care' AS agency, NULL::text AS perspective,
           NULL::int AS relative_term
    FROM (${distinctFacts('social-care.referral.received')}) u`,
  'cp-plan-two-years': `
    SELECT u.pseudonym, u.on_day AS unit_day, u.on_day AS period_day,
           (u.on_day - u.start_day + 1) > 729 AS hit, (u.on_day - u.start_day + 1)::numeric AS value,
           u.local_authority, 'social-care' AS agency, NULL::text AS perspective, NULL::int AS relative_term
    FROM (${distinctFacts('social-care.child-protection-plan.ended', 'f.start_day')}) u`,
  'repeat-cp-plan': `
    SELECT u.pseudonym, u.on_day AS unit_day, u.on_day AS period_day,
           (COALESCE(u.quantity, 0) > 0 OR EXISTS (
              SELECT 1 FROM ${F} p WHERE p.pseudonym = u.pseudonym
                AND ((p.event_type = 'social-care.child-protection-plan.started' AND p.on_day < u.on_day)
                  OR (p.event_type = 'social-care.child-protection-plan.ended' AND p.start_day < u.on_day)))) AS hit,
           NULL::numeric AS value, u.local_authority, 'social-care' AS agency, NULL::text AS perspective,
           NULL::int AS relative_term
    FROM (${distinctFacts('social-care.child-protection-plan.started')}) u`,
  'attendance-around-cp-plan': attendanceAround('social-care.child-protection-plan.started'),
  'attendance-around-looked-after': attendanceAround('social-care.looked-after-episode.started'),
  'attendance-around-ehc-plan': attendanceAround('education.ehc-plan.issued'),
  suspensions: exclusions("'SUSP', 'LNCH'"),
  'permanent-exclusions': exclusions("'PERM'"),
  'placement-stability': placementStability,
  'missing-from-care': missingFromCare,
  'ehc-plan-20-weeks': ehcPlanTwentyWeeks,
  'immunisation-6-in-1-12-months': immunisation(['6-in-1'], 3, 12),
  'immunisation-mmr1-24-months': immunisation(['MMR', 'MMRV'], 1, 24),
  'immunisation-mmr2-5-years': immunisation(['MMR', 'MMRV'], 2, 60),
  'outcome-ratings-by-perspective': outcomeRatings,
};

/**
 * The column that names a measure's child in its units and in the cohort: the pseudonym, or the
 * child's number where the units are many (1.3 M ratings at 10⁵ children) and joining and
 * grouping them by a 64-character pseudonym cost a quarter to a third of the measure (decision 019).
 */
export const UNITS_CHILD_COLUMN: Readonly<Record<string, 'pseudonym' | 'child_number'>> = Object.fromEntries(
  Object.keys(UNITS_SQL).map((id) => [
    id,
    id === 'outcome-ratings-by-perspective' ? 'child_number' : 'pseudonym',
  ]),
);
