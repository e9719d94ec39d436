import type { GroupBy, MeasureDefinition, Period } from '../types';

/**
 * The measures, each defined once (issue 15 item 2), as the DfE local authority interactive
 * tool's data dictionary has them where it defines them. Implementations: ./units.ts.
 */

const LAIT = {
  title: 'DfE local authority interactive tool (LAIT) data dictionary',
  url: 'https://github.com/dfe-analytical-services/local-authority-interactive-tool/blob/main/01_data/02_prod/lait_data_dictionary.csv',
};

const CHARACTERISTICS: readonly GroupBy[] = [
  'period',
  'age-band',
  'sex',
  'ethnicity-group',
  'sen-status',
  'local-authority',
];
const ALL_PERIODS: readonly Period[] = ['financial-year', 'academic-year', 'calendar-year', 'term', 'month'];
const AGE_BY_MONTH =
  'Age bands are counted from the birth month only (the model keeps no day of birth): a child may be placed one band up in the month of their birthday.';
const LINKED =
  "A child is the records the identity links join (decision 005); a child whose records are not linked counts as several children, and links made later move the child's history with them.";

const ATTENDANCE_CAVEATS = [
  'Relative term 0 is the term the aligning event falls in (autumn 1 September–31 December, spring 1 January–31 March, summer 1 April–31 August, as the school calendar of libs/outcomes); terms -4 … +6 around it.',
  "Persistent absence here is per child and term (all the child's schools' sessions in the term summed), where the DfE measure is per enrolment over the year.",
  'A child counts in every term they have attendance for, so a result is not additive across terms; always grouped by relative term.',
  'Only children with an aligning event and attendance from a linked education record are counted.',
  AGE_BY_MONTH,
];

function attendanceAround(id: string, title: string, eventType: string, what: string): MeasureDefinition {
  return {
    id,
    title,
    definition:
      `Children with school attendance in each term from four terms before to six terms after their first ${what} ` +
      '(relative term -4 … +6), and of them those persistently absent in the term: missing 10% or more of their ' +
      'possible sessions (authorised and unauthorised absence).',
    source: LAIT,
    unit: 'proportion',
    countOf: 'children with attendance in the relative term',
    eventTypes: [eventType, 'education.attendance.summarised'],
    groupBy: ['relative-term', 'age-band', 'sex', 'ethnicity-group', 'sen-status', 'local-authority'],
    periods: ['term'],
    caveats: ATTENDANCE_CAVEATS,
  };
}

export const MEASURES: readonly MeasureDefinition[] = [
  {
    id: 'referral-to-assessment-days',
    title: 'Days from referral to assessment completed',
    definition:
      'For each child and family assessment completed (authorised) in the period, the calendar days from the ' +
      'latest referral of the child on or before the assessment started to the assessment’s authorisation; the ' +
      'mean over assessments. Counted by the period the assessment was completed in, as the 45-working-day ' +
      'timeliness measure is.',
    source: LAIT,
    unit: 'mean-days',
    countOf: 'assessments completed',
    eventTypes: ['social-care.referral.received', 'social-care.assessment.completed'],
    groupBy: [...CHARACTERISTICS],
    periods: ALL_PERIODS,
    caveats: [
      'Calendar days, not the working days of the statutory 45-working-day timescale.',
      'An assessment with no referral of the child on or before its start is left out.',
      'The same assessment reported twice (same child, start and completion) counts once.',
      LINKED,
      AGE_BY_MONTH,
    ],
  },
  {
    id: 'referral-to-cp-plan-days',
    title: 'Days from referral to child protection plan start',
    definition:
      'For each child protection plan starting in the period, the calendar days from the latest referral of the ' +
      'child on or before the plan start; the mean over plans.',
    unit: 'mean-days',
    countOf: 'child protection plans started',
    eventTypes: ['social-care.referral.received', 'social-care.child-protection-plan.started'],
    groupBy: [...CHARACTERISTICS],
    periods: ALL_PERIODS,
    caveats: [
      'No official definition: the referral is the latest on or before the plan start, however long before.',
      'A plan with no referral of the child on or before its start is left out.',
      LINKED,
      AGE_BY_MONTH,
    ],
  },
  {
    id: 're-referral-12-months',
    title: 'Re-referrals within 12 months',
    definition:
      'Of referrals in the period, the percentage within 12 months of a previous referral of the same child: ' +
      'an earlier referral on or after the same day one year before.',
    source: LAIT,
    unit: 'proportion',
    countOf: 'referrals',
    eventTypes: ['social-care.referral.received'],
    groupBy: [...CHARACTERISTICS],
    periods: ALL_PERIODS,
    caveats: [
      'Referrals of one child on the same day count once.',
      'Only referrals in the store count as previous ones: a referral before the earliest imported return is unseen.',
      LINKED,
      AGE_BY_MONTH,
    ],
  },
  {
    id: 'cp-plan-two-years',
    title: 'Child protection plans lasting two years or more',
    definition:
      'Of child protection plans ceasing in the period, the percentage open continuously for two years or more: ' +
      'more than 729 days counting both the start and the cessation day. A child whose plans cease twice in the ' +
      'period counts each time.',
    source: LAIT,
    unit: 'proportion',
    countOf: 'child protection plans ceased',
    eventTypes: ['social-care.child-protection-plan.ended'],
    groupBy: [...CHARACTERISTICS],
    periods: ALL_PERIODS,
    caveats: ['The duration is from the start date the ending event carries.', LINKED, AGE_BY_MONTH],
  },
  {
    id: 'repeat-cp-plan',
    title: 'Second or subsequent child protection plans',
    definition:
      'Of child protection plans starting in the period (each occasion), the percentage where the child had ' +
      'been the subject of a plan before, regardless of how long ago: an earlier plan in the store, or a number ' +
      'of previous plans greater than 0 as the CIN census reports it.',
    source: LAIT,
    unit: 'proportion',
    countOf: 'child protection plans started',
    eventTypes: ['social-care.child-protection-plan.started', 'social-care.child-protection-plan.ended'],
    groupBy: [...CHARACTERISTICS],
    periods: ALL_PERIODS,
    caveats: [
      'Plans started on the same day for one child count once.',
      "Earlier plans in another authority count only through the census's number of previous plans.",
      LINKED,
      AGE_BY_MONTH,
    ],
  },
  attendanceAround(
    'attendance-around-cp-plan',
    'Persistent absence by term around a child protection plan start',
    'social-care.child-protection-plan.started',
    'child protection plan start',
  ),
  attendanceAround(
    'attendance-around-looked-after',
    'Persistent absence by term around starting to be looked after',
    'social-care.looked-after-episode.started',
    'period of care start',
  ),
  attendanceAround(
    'attendance-around-ehc-plan',
    'Persistent absence by term around an EHC plan',
    'education.ehc-plan.issued',
    'EHC plan issue',
  ),
  {
    id: 'suspensions',
    title: 'Suspensions',
    definition: 'Suspensions (fixed-period exclusions, lunchtime ones included) starting in the period.',
    unit: 'count',
    countOf: 'suspensions',
    eventTypes: ['education.exclusion.recorded'],
    groupBy: [...CHARACTERISTICS],
    periods: ALL_PERIODS,
    caveats: [
      'A count, not a rate: the model has no roll of all pupils to divide by.',
      'Lunchtime suspensions count as suspensions.',
      LINKED,
      AGE_BY_MONTH,
    ],
  },
  {
    id: 'permanent-exclusions',
    title: 'Permanent exclusions',
    definition: 'Permanent exclusions starting in the period.',
    unit: 'count',
    countOf: 'permanent exclusions',
    eventTypes: ['education.exclusion.recorded'],
    groupBy: [...CHARACTERISTICS],
    periods: ALL_PERIODS,
    caveats: [
      'A count, not a rate: the model has no roll of all pupils to divide by.',
      'An exclusion later overturned (reinstated) still counts.',
      LINKED,
      AGE_BY_MONTH,
    ],
  },
  {
    id: 'placement-stability',
    title: 'Looked-after children with three or more placements in the year',
    definition:
      'Of children looked after at 31 March, the percentage with three or more placements during the year ' +
      '(1 April–31 March): the placement held on 1 April, if any, and each placement started in the year (a ' +
      'period of care starting, or a new episode with a change of placement and carers, RNE P or B).',
    source: LAIT,
    unit: 'proportion',
    countOf: 'children looked after at 31 March',
    eventTypes: [
      'social-care.looked-after-episode.started',
      'social-care.looked-after-episode.changed',
      'social-care.looked-after-episode.ended',
    ],
    groupBy: [...CHARACTERISTICS],
    periods: ['financial-year'],
    caveats: [
      'A change of placement with the same carers (RNE T or U), such as adoption by the foster carers, is not a move, as the LAIT definition has it; the model cannot tell placements under 24 hours or short-break series, so they count.',
      'Looked after at 31 March: the period of care started on or before it and had not ended by it (an end dated 31 March is not looked after at 31 March).',
      'A period of care whose start is not in the store (began before the earliest return) is unseen.',
      LINKED,
      AGE_BY_MONTH,
    ],
  },
  {
    id: 'missing-from-care',
    title: 'Children who went missing from care',
    definition:
      'Children with at least one missing episode (whereabouts unknown, SSDA903 M) during the year that started ' +
      'while they were looked after, episodes open at 1 April included.',
    source: LAIT,
    unit: 'count',
    countOf: 'children',
    eventTypes: [
      'social-care.missing-episode.recorded',
      'social-care.looked-after-episode.started',
      'social-care.looked-after-episode.ended',
    ],
    groupBy: [...CHARACTERISTICS],
    periods: ['financial-year'],
    caveats: [
      'Away from placement without authorisation (A) is not missing and is not counted.',
      'A child missing from home while not looked after is not counted. The model keeps the month of a missing ' +
        'episode, not its day: an episode in the month care started or ended is counted.',
      'Looked-after periods and missing episodes reach the model from the social care record; an episode whose ' +
        'period of care is not recorded (care before the history imported) is not counted.',
      'A count of children, not a rate of all looked-after children.',
      LINKED,
      AGE_BY_MONTH,
    ],
  },
  {
    id: 'ehc-plan-20-weeks',
    title: 'EHC plans issued within 20 weeks',
    definition:
      'Of new EHC plans issued in the period, the percentage issued within 20 weeks (140 days) of the request ' +
      'for an EHC needs assessment. The variant including exception cases.',
    source: LAIT,
    unit: 'proportion',
    countOf: 'EHC plans issued',
    eventTypes: ['education.ehc-plan.issued', 'education.ehc-needs-assessment.requested'],
    groupBy: [...CHARACTERISTICS],
    periods: ALL_PERIODS,
    caveats: [
      "The request date is the plan's own, else the child's latest request on or before the issue; a plan with neither is left out.",
      'Exception cases cannot be told apart, so they are included (DfE publishes this variant too); DfE counts by calendar year.',
      LINKED,
      AGE_BY_MONTH,
    ],
  },
  ...(
    [
      ['immunisation-6-in-1-12-months', 'Three doses of the 6-in-1 vaccine by 12 months', ['6-in-1'], 3, 12],
      ['immunisation-mmr1-24-months', 'A first dose of MMR by 24 months', ['MMR', 'MMRV'], 1, 24],
      ['immunisation-mmr2-5-years', 'Two doses of MMR by 5 years', ['MMR', 'MMRV'], 2, 60],
    ] as const
  ).map(([id, title, vaccines, doses, months]): MeasureDefinition => ({
    id,
    title,
    definition:
      `Of children known to health services reaching ${months} months of age in the period, the percentage ` +
      `given ${doses === 1 ? 'a dose' : `${doses} doses`} of ${vaccines.join(' or ')} before that age, as ` +
      'COVER counts coverage at an age.',
    unit: 'proportion',
    countOf: `children reaching ${months} months`,
    eventTypes: ['health.immunisation.given'],
    groupBy: ['period', 'sex', 'ethnicity-group', 'sen-status', 'local-authority'],
    periods: ALL_PERIODS,
    caveats: [
      'Children known to health services: with any health record in the store.',
      'The age a child reaches is counted from the birth month; the age at each dose from the exact date of birth.',
      'Doses given before the store began are unseen.',
      LINKED,
    ],
  })),
  {
    id: 'outcome-ratings-by-perspective',
    title: 'Outcome ratings by perspective over time',
    definition:
      'The mean outcome rating recorded in the period, each rating put on 0–100 by its own scale ' +
      '((value − min) / (max − min) × 100), by whose perspective it is (the child, the family, a professional).',
    unit: 'mean-rating',
    countOf: 'ratings',
    eventTypes: ['outcome.observation.recorded'],
    groupBy: [
      'period',
      'perspective',
      'age-band',
      'sex',
      'ethnicity-group',
      'sen-status',
      'local-authority',
      'agency',
    ],
    periods: ALL_PERIODS,
    caveats: [
      'Scales differ between frameworks; putting them on 0–100 makes them comparable in range, not in meaning.',
      'Observations without a rating are not counted; narratives never enter the analysis model.',
      'For an entry cohort give cohort.entry (e.g. the CP plan start); ratings are then those of its children.',
      LINKED,
      AGE_BY_MONTH,
    ],
  },
];

export const MEASURE_BY_ID: ReadonlyMap<string, MeasureDefinition> = new Map(MEASURES.map((m) => [m.id, m]));
