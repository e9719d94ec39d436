import {
  type AnalysisAnswer,
  type Cell,
  DEFAULT_DISCLOSURE_RULES,
  type GroupBy,
  type MeasureDefinition,
} from '../types';

/** A synthetic measure (a proportion, as re-referrals are). */
export const reReferrals: MeasureDefinition = {
  id: 're-referrals-12-months',
  title: 'Re-referrals within 12 months',
  definition:
    'Referrals in the year within 12 months of a previous referral of the same child, as a percentage of referrals in the year.',
  source: { title: 'DfE LAIT data dictionary', url: 'https://example.test/lait_data_dictionary.csv' },
  unit: 'proportion',
  countOf: 'referrals',
  eventTypes: ['social-care.referral-received.v1'],
  groupBy: ['period', 'age-band', 'local-authority', 'relative-term'],
  periods: ['financial-year', 'month', 'term'],
  caveats: ['Referrals before the first imported year cannot count as previous referrals.'],
};

/** An answer as the API gives it, cells already through disclosure control. */
export function answerOf(
  cells: Cell[],
  overrides: {
    groupBy?: GroupBy[];
    measure?: MeasureDefinition;
    period?: AnalysisAnswer['query']['period'];
    localAuthorities?: string[];
  } = {},
): AnalysisAnswer {
  return {
    measure: overrides.measure ?? reReferrals,
    query: {
      measure: (overrides.measure ?? reReferrals).id,
      cohort: overrides.localAuthorities ? { localAuthorities: overrides.localAuthorities } : {},
      groupBy: overrides.groupBy ?? ['period', 'age-band'],
      period: overrides.period ?? 'financial-year',
    },
    cohortSize: 1250,
    cells,
    rules: DEFAULT_DISCLOSURE_RULES,
    asOfPosition: 48213,
  };
}

/** Two periods by age band: shown, primary and numerator suppression, a margin, a true zero. */
export const smallAnswer: AnalysisAnswer = answerOf([
  { key: { period: '2023-24', 'age-band': '1-4' }, count: 45, numerator: 10, value: 22.7, suppressed: false },
  {
    key: { period: '2023-24', 'age-band': '5-9' },
    count: null,
    numerator: null,
    value: null,
    suppressed: true,
    reason: 'below-threshold',
  },
  {
    key: { period: '2023-24', 'age-band': '10-15' },
    count: 30,
    numerator: null,
    value: null,
    suppressed: true,
    reason: 'numerator-below-threshold',
  },
  {
    key: { period: '2024-25', 'age-band': 'total' },
    count: 80,
    numerator: 25,
    value: 31.3,
    suppressed: false,
  },
  { key: { period: '2024-25', 'age-band': '16-17' }, count: 0, numerator: 0, value: null, suppressed: false },
]);
