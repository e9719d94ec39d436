import type { Pool } from 'pg';
import type { AgencyEvent, EventOfType, EventType } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { identityStreamOf } from '@throughline/identity';
import { createPool, ValidationError } from '@throughline/platform';
import {
  buildEvent,
  createTestDatabase,
  freshNhsNumber,
  freshRecordId,
  freshUpn,
  recordAsTheRecorderWould,
  type EventOverrides,
  type TestDatabase,
} from '@throughline/testing';
import {
  AnalysisProjector,
  AnalysisQueries,
  analysisQuerySchema,
  migrateAnalysis,
  type RawResult,
} from '@throughline/analysis';

/**
 * Each measure on a small hand-made cohort, against the counts worked out by hand in the
 * comments (boundaries of each definition included). FY 2023-24 is 1 April 2023–31 March 2024.
 */

let database: TestDatabase;
let store: PostgresEventStore;
let pool: Pool;
let projector: AnalysisProjector;
let queries: AnalysisQueries;

const LA = { agency: 'social-care' as const, system: 'demo-case-system', organisation: '926' };

/** A child's social care record: every event of it shares the subject. */
function socialCareChild(dateOfBirth: string, sex?: string) {
  return {
    recordId: freshRecordId('case'),
    laChildId: `C${Math.floor(Math.random() * 1e8)}`,
    laCode: '926',
    dateOfBirth,
    ...(sex ? { sex } : {}),
  };
}

type Subject = Record<string, unknown>;

/** An event of `type` about `subject`, as it happened on `day` (occurredAt that day). */
function on<T extends EventType>(
  type: T,
  day: string,
  subject: Subject,
  data: EventOverrides<T>['data'],
  source?: object,
) {
  return buildEvent(type, {
    occurredAt: `${day}T10:00:00Z`,
    subject: subject as EventOverrides<T>['subject'],
    data,
    ...(source ? { source: source as EventOverrides<T>['source'] } : {}),
  } as EventOverrides<T>) as EventOfType<T>;
}

const referral = (day: string, subject: Subject) =>
  on('social-care.referral.received', day, subject, {
    referralDate: day,
    referralSource: '2A',
    noFurtherAction: false,
  });
const planStarted = (day: string, subject: Subject, previous = 0) =>
  on('social-care.child-protection-plan.started', day, subject, {
    startDate: day,
    initialCategory: 'NEG',
    numberOfPreviousPlans: previous,
  });
const planEnded = (start: string, end: string, subject: Subject) =>
  on('social-care.child-protection-plan.ended', end, subject, { startDate: start, endDate: end });
const assessment = (start: string, authorised: string, subject: Subject) =>
  on('social-care.assessment.completed', authorised, subject, {
    startDate: start,
    authorisationDate: authorised,
  });
const careStarted = (day: string, subject: Subject) =>
  on('social-care.looked-after-episode.started', day, subject, { startDate: day });
const careChanged = (day: string, subject: Subject, reason: 'P' | 'T' | 'B' | 'U') =>
  on('social-care.looked-after-episode.changed', day, subject, {
    changeDate: day,
    reasonForNewEpisode: reason,
    reasonPlaceChange: 'CARPL',
  });
const careEnded = (start: string, end: string, subject: Subject) =>
  on('social-care.looked-after-episode.ended', end, subject, {
    startDate: start,
    endDate: end,
    reasonEnded: 'E45',
  });
const missing = (kind: 'M' | 'A', start: string, end: string | undefined, subject: Subject) =>
  on('social-care.missing-episode.recorded', end ?? start, subject, {
    kind,
    startDate: start,
    endDate: end,
    returnInterviewOffered: undefined,
    returnInterviewAccepted: undefined,
  });

// Social care: referrals, assessments and plans.
const A = socialCareChild('2012-06-15', '1');
const B = socialCareChild('2010-01-20', '2');
const C = socialCareChild('2011-03-03');
// Looked after.
const [D, E, F, G] = [1, 2, 3, 4].map(() => socialCareChild('2009-09-09'));
// A's school record, linked to A.
const pupilA = { recordId: freshRecordId('pupil'), upn: freshUpn(), dateOfBirth: '2012-06-15' };
const SCHOOL = { agency: 'education' as const, system: 'demo-school-mis', organisation: '100001' };
const SEN = { agency: 'education' as const, system: 'demo-sen-system', organisation: '926' };
// EHC plans.
const [H, I, J] = [1, 2, 3].map(() => ({
  recordId: freshRecordId('sen'),
  upn: freshUpn(),
  dateOfBirth: '2014-02-02',
}));
// Health records (immunisations).
const health = (dateOfBirth: string) => ({
  recordId: freshRecordId('chs'),
  nhsNumber: freshNhsNumber(),
  dateOfBirth,
});
const [K, L, M] = [health('2021-02-10'), health('2021-03-05'), health('2021-05-20')];
const HEALTH = { agency: 'health' as const, system: 'demo-child-health', organisation: 'RX1' };

const attendance = (
  academicYear: string,
  term: 'autumn' | 'spring' | 'summer',
  missed: number,
  day: string,
) =>
  buildEvent('education.attendance.summarised', {
    occurredAt: `${day}T10:00:00Z`,
    schemaVersion: 2,
    subject: pupilA,
    source: SCHOOL,
    data: {
      schoolUrn: '100001',
      academicYear,
      term,
      sessionsPossible: 100,
      sessionsAttended: 100 - missed,
      authorisedAbsence: missed,
      unauthorisedAbsence: 0,
    },
  } as EventOverrides<'education.attendance.summarised'>);

const rating = (
  day: string,
  perspective: 'child' | 'family' | 'professional',
  value: number,
  min: number,
  max: number,
) =>
  on(
    'outcome.observation.recorded',
    day,
    A,
    {
      framework: 'ecm',
      domain: 'be-healthy',
      perspective,
      observerRole: perspective === 'professional' ? 'social worker' : perspective,
      observerAgency: perspective === 'professional' ? 'social-care' : undefined,
      observedOn: day,
      narrative: 'Synthetic observation.',
      rating: { scale: 'synthetic', value, min, max },
      confidence: 'medium',
    },
    LA,
  );

const EVENTS: AgencyEvent[] = [
  // A: referrals 2023-05-10 (no earlier) and 2024-01-10 (245 days after: a re-referral); an
  // assessment started 2023-05-12, authorised 2023-06-21 (42 days from the referral); a first plan
  // 2023-07-01 (52 days from the referral).
  referral('2023-05-10', A),
  assessment('2023-05-12', '2023-06-21', A),
  planStarted('2023-07-01', A),
  referral('2024-01-10', A),
  // B: referrals 2021-01-01, 2022-05-10 and 2023-05-10 (exactly 12 months after: a re-referral);
  // an assessment 2023-05-10 → 2023-05-20 (10 days); a plan 2019-01-01 → 2020-01-01 (366 days,
  // ceased FY 2019-20); a plan 2021-06-01 → 2023-05-30 (729 days counting both ends: not two
  // years); a plan from 2023-08-01 (a repeat: the 2019 plan, however long ago; 83 days from referral).
  referral('2021-01-01', B),
  planEnded('2019-01-01', '2020-01-01', B),
  planEnded('2021-06-01', '2023-05-30', B),
  referral('2022-05-10', B),
  referral('2023-05-10', B),
  assessment('2023-05-10', '2023-05-20', B),
  planStarted('2023-08-01', B),
  // C: referrals 2022-04-01 and 2023-04-02 (12 months and a day: not a re-referral); a plan
  // 2021-06-01 → 2023-05-31 (730 days: two years); a plan from 2023-09-01 the census says is
  // the third (152 days from the referral).
  referral('2022-04-01', C),
  planEnded('2021-06-01', '2023-05-31', C),
  referral('2023-04-02', C),
  planStarted('2023-09-01', C, 2),
  // D: in care since 2023-01-10; moves P 2023-06-01 and B 2023-09-01: 3 placements in FY 2023-24
  // (the one held on 1 April and two new); missing from 2023-03-20, not back (FY 2022-23 and 2023-24).
  careStarted('2023-01-10', D),
  missing('M', '2023-03-20', undefined, D),
  careChanged('2023-06-01', D, 'P'),
  careChanged('2023-09-01', D, 'B'),
  // E: in care from 2023-05-01; same carers T 2023-07-01 (not a move); P 2023-10-01: 2 placements.
  // Missing 2023-06-10 → 2023-06-12; away (not missing) 2023-08-01.
  careStarted('2023-05-01', E),
  missing('M', '2023-06-10', '2023-06-12', E),
  careChanged('2023-07-01', E, 'T'),
  missing('A', '2023-08-01', '2023-08-02', E),
  careChanged('2023-10-01', E, 'P'),
  // F: in care 2023-04-01 → 2024-03-31 with two moves: not looked after at 31 March. Missing
  // 2023-02-05 → 2023-03-25, before care started: missing from home, not from care (not counted).
  missing('M', '2023-02-05', '2023-03-25', F),
  careStarted('2023-04-01', F),
  careChanged('2023-06-01', F, 'P'),
  careChanged('2023-08-01', F, 'P'),
  careEnded('2023-04-01', '2024-03-31', F),
  // G: in care 2022-06-01 → 2023-02-01: looked after at neither 31 March.
  careStarted('2022-06-01', G),
  careEnded('2022-06-01', '2023-02-01', G),
  // G missing in March 2023, after care ended: not counted. C, never looked after, missing from home.
  missing('M', '2023-03-05', '2023-03-06', G),
  missing('M', '2023-11-05', '2023-11-07', C),
  // A's attendance: the plan started in the summer term of 2022/23 (relative term 0).
  attendance('2021/22', 'autumn', 50, '2021-12-20'), // -5: outside -4 … +6
  attendance('2022/23', 'autumn', 5, '2022-12-20'), // -2: 5%
  attendance('2022/23', 'summer', 10, '2023-07-20'), // 0: 10%, persistent (boundary)
  attendance('2023/24', 'autumn', 9, '2023-12-20'), // +1: 9%
  attendance('2023/24', 'spring', 30, '2024-03-28'), // +2: 30%
  attendance('2023/24', 'spring', 40, '2024-04-02'), // +2 corrected: still persistent
  // A's suspensions and exclusion (FY 2023-24): two suspensions (one at lunchtime), one permanent.
  on(
    'education.exclusion.recorded',
    '2023-05-03',
    pupilA,
    { category: 'SUSP', startDate: '2023-05-03', sessions: 2 },
    SCHOOL,
  ),
  on(
    'education.exclusion.recorded',
    '2023-06-01',
    pupilA,
    { category: 'LNCH', startDate: '2023-06-01', sessions: 1 },
    SCHOOL,
  ),
  on(
    'education.exclusion.recorded',
    '2024-02-01',
    pupilA,
    { category: 'PERM', startDate: '2024-02-01', sessions: undefined },
    SCHOOL,
  ),
  // EHC plans in 2023: H 140 days after its request (in time, boundary), I 141 days (late), J with no request (left out).
  on('education.ehc-needs-assessment.requested', '2023-01-10', H, { requestDate: '2023-01-10' }, SEN),
  on('education.ehc-plan.issued', '2023-05-30', H, { requestDate: undefined, issueDate: '2023-05-30' }, SEN),
  on(
    'education.ehc-plan.issued',
    '2023-05-31',
    I,
    { requestDate: '2023-01-10', issueDate: '2023-05-31' },
    SEN,
  ),
  on('education.ehc-plan.issued', '2023-06-01', J, { requestDate: undefined, issueDate: '2023-06-01' }, SEN),
  // Immunisations: K has MMR at 11 months (counted), L exactly at 24 months (too late), M no MMR.
  on(
    'health.immunisation.given',
    '2022-01-20',
    K,
    { vaccine: 'MMR', dose: 1, givenDate: '2022-01-20' },
    HEALTH,
  ),
  on(
    'health.immunisation.given',
    '2023-03-05',
    L,
    { vaccine: 'MMR', dose: 1, givenDate: '2023-03-05' },
    HEALTH,
  ),
  on(
    'health.immunisation.given',
    '2021-07-20',
    M,
    { vaccine: '6-in-1', dose: 1, givenDate: '2021-07-20' },
    HEALTH,
  ),
  // A's ratings in 2023: the child's 7 on 1–10 (66.7) and 10 (100), the family's 3 on 0–4 (75), a professional's 2 on 1–5 (25).
  rating('2023-06-01', 'child', 7, 1, 10),
  rating('2023-09-01', 'child', 10, 1, 10),
  rating('2023-06-02', 'family', 3, 0, 4),
  rating('2023-06-03', 'professional', 2, 1, 5),
];

beforeAll(async () => {
  database = await createTestDatabase('tl_analysis_measures');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  pool = createPool(database.url);
  await migrateAnalysis(pool);
  await recordAsTheRecorderWould(store, ...EVENTS);
  const pupil = `education-${pupilA.recordId}`;
  await store.append(
    identityStreamOf(pupil),
    [
      {
        eventId: crypto.randomUUID(),
        type: 'identity.subject.linked',
        data: {
          subject: pupil,
          linkedTo: `social-care-${A.recordId}`,
          method: 'manual',
          reason: 'synthetic: the same child',
          by: { type: 'user', userId: 'ig-0001' },
          at: new Date().toISOString(),
        },
      },
    ],
    'any',
  );
  projector = new AnalysisProjector({ pool, store, pseudonymKey: 'measures-int-key-0123456789' });
  await projector.start();
  await projector.waitForPosition(await store.headPosition());
  queries = new AnalysisQueries(pool);
});

afterAll(async () => {
  await projector?.stop();
  await store?.close();
  await pool?.end();
  await database?.drop();
});

const run = (query: object): Promise<RawResult> => queries.run(analysisQuerySchema.parse(query));
const cellsOf = (result: RawResult) =>
  result.cells.map(({ key, count, numerator, value }) => ({
    ...key,
    count,
    ...(numerator !== undefined ? { numerator } : {}),
    ...(value !== undefined ? { value: Math.round(value * 100) / 100 } : {}),
  }));

describe('the measures on a hand-made cohort', () => {
  it('reads every event of the cohort (none skipped)', async () => {
    expect((await pool.query('SELECT * FROM analysis_skipped_events')).rows).toEqual([]);
  });

  it('days from referral to assessment completed and to CP plan start', async () => {
    expect(cellsOf(await run({ measure: 'referral-to-assessment-days', groupBy: ['period'] }))).toEqual([
      { period: '2023-24', count: 2, value: 26 }, // (42 + 10) / 2
    ]);
    expect(cellsOf(await run({ measure: 'referral-to-cp-plan-days', groupBy: ['period', 'sex'] }))).toEqual([
      { period: '2023-24', sex: 'female', count: 1, value: 83 },
      { period: '2023-24', sex: 'male', count: 1, value: 52 },
      { period: '2023-24', sex: 'unknown', count: 1, value: 152 },
    ]);
  });

  it('re-referrals within 12 months: exactly a year counts, a year and a day does not', async () => {
    const result = await run({ measure: 're-referral-12-months', groupBy: ['period'] });
    expect(cellsOf(result)).toEqual([
      { period: '2020-21', count: 1, numerator: 0 },
      { period: '2022-23', count: 2, numerator: 0 },
      { period: '2023-24', count: 4, numerator: 2 },
    ]);
    expect(result).toMatchObject({ unit: 'proportion', additive: true, cohortSize: 3 });
  });

  it('CP plans lasting two years: more than 729 days counting the cessation day', async () => {
    expect(cellsOf(await run({ measure: 'cp-plan-two-years', groupBy: ['period'] }))).toEqual([
      { period: '2019-20', count: 1, numerator: 0 },
      { period: '2023-24', count: 2, numerator: 1 },
    ]);
  });

  it('repeat CP plans: any earlier plan however long ago, or the census count', async () => {
    expect(cellsOf(await run({ measure: 'repeat-cp-plan', groupBy: ['period'] }))).toEqual([
      { period: '2023-24', count: 3, numerator: 2 },
    ]);
  });

  it('persistent absence by term around the CP plan start, always by relative term', async () => {
    const result = await run({ measure: 'attendance-around-cp-plan', period: 'term' });
    expect(result).toMatchObject({ groupBy: ['relative-term'], additive: false, cohortSize: 1 });
    expect(cellsOf(result)).toEqual([
      { 'relative-term': '-2', count: 1, numerator: 0 },
      { 'relative-term': '0', count: 1, numerator: 1 },
      { 'relative-term': '1', count: 1, numerator: 0 },
      { 'relative-term': '2', count: 1, numerator: 1 },
    ]);
  });

  it('suspensions and permanent exclusions by period', async () => {
    expect(cellsOf(await run({ measure: 'suspensions', groupBy: ['period'] }))).toEqual([
      { period: '2023-24', count: 2 },
    ]);
    expect(cellsOf(await run({ measure: 'permanent-exclusions', groupBy: ['period'] }))).toEqual([
      { period: '2023-24', count: 1 },
    ]);
  });

  it('placement stability: looked after at 31 March with three or more placements in the year', async () => {
    expect(cellsOf(await run({ measure: 'placement-stability', groupBy: ['period'] }))).toEqual([
      { period: '2022-23', count: 1, numerator: 0 },
      { period: '2023-24', count: 2, numerator: 1 },
    ]);
  });

  it('children missing from care in the year, episodes open at 1 April included, missing from home not', async () => {
    expect(cellsOf(await run({ measure: 'missing-from-care', groupBy: ['period'] }))).toEqual([
      { period: '2022-23', count: 1 },
      { period: '2023-24', count: 2 },
    ]);
  });

  it('EHC plans within 20 weeks: 140 days is in time', async () => {
    expect(
      cellsOf(await run({ measure: 'ehc-plan-20-weeks', groupBy: ['period'], period: 'calendar-year' })),
    ).toEqual([{ period: '2023', count: 2, numerator: 1 }]);
  });

  it('immunisation completeness: a first MMR before 24 months', async () => {
    expect(
      cellsOf(
        await run({ measure: 'immunisation-mmr1-24-months', groupBy: ['period'], period: 'calendar-year' }),
      ),
    ).toEqual([{ period: '2023', count: 3, numerator: 1 }]);
  });

  it('outcome ratings by perspective, each on 0–100 by its scale', async () => {
    expect(
      cellsOf(
        await run({
          measure: 'outcome-ratings-by-perspective',
          groupBy: ['perspective'],
          period: 'calendar-year',
        }),
      ),
    ).toEqual([
      { perspective: 'child', count: 2, value: 83.33 },
      { perspective: 'family', count: 1, value: 75 },
      { perspective: 'professional', count: 1, value: 25 },
    ]);
  });

  it('narrows to an entry cohort (children with a CP plan from 15 July 2023)', async () => {
    const result = await run({
      measure: 're-referral-12-months',
      groupBy: ['period'],
      cohort: { entry: { eventTypes: ['social-care.child-protection-plan.started'], from: '2023-07-15' } },
    });
    expect(cellsOf(result)).toEqual([
      { period: '2020-21', count: 1, numerator: 0 },
      { period: '2022-23', count: 2, numerator: 0 },
      { period: '2023-24', count: 2, numerator: 1 },
    ]);
    expect(result.cohortSize).toBe(2);
    const girls = await run({
      measure: 're-referral-12-months',
      cohort: { sex: ['female'], ageBands: ['10-15'] },
    });
    expect(cellsOf(girls)).toEqual([{ count: 3, numerator: 1 }]);
  });

  it('refuses a measure it does not know, and a grouping or period the measure does not offer', async () => {
    await expect(run({ measure: 'no-such-measure' })).rejects.toBeInstanceOf(ValidationError);
    await expect(run({ measure: 're-referral-12-months', groupBy: ['perspective'] })).rejects.toMatchObject({
      issues: [{ path: 'groupBy.0', rule: 'offered-by-measure' }],
    });
    await expect(run({ measure: 'placement-stability', period: 'month' })).rejects.toMatchObject({
      issues: [{ path: 'period', rule: 'offered-by-measure' }],
    });
  });

  it('says how far the model has read the store', async () => {
    expect(await queries.position()).toBe(Number(await store.headPosition()));
  });
});
