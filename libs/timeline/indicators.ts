import type { CurrentAgencyEvent } from '@throughline/contracts';
import type { Indicator, IndicatorThreshold } from './entry';
import { attendancePercent } from './summarise';

type DataOf<T extends CurrentAgencyEvent['type']> = Extract<CurrentAgencyEvent, { type: T }>['data'];

const ASQ3_SCALE = { name: 'asq-3', min: 0, max: 60 } as const;
const ASQ3_DOMAINS = [
  ['communication', 'asq3-communication', 'ASQ-3 communication'],
  ['grossMotor', 'asq3-gross-motor', 'ASQ-3 gross motor'],
  ['fineMotor', 'asq3-fine-motor', 'ASQ-3 fine motor'],
  ['problemSolving', 'asq3-problem-solving', 'ASQ-3 problem solving'],
  ['personalSocial', 'asq3-personal-social', 'ASQ-3 personal-social'],
] as const;

/**
 * ASQ-3 domain scores (0-60 each) as five indicators. No thresholds: the ASQ-3 cut-offs depend
 * on the questionnaire interval (24, 27 or 30 months), which the contract does not carry.
 */
export function asq3Indicators(asq3: DataOf<'health.health-visitor-review.completed'>['asq3']): Indicator[] {
  if (!asq3) return [];
  return ASQ3_DOMAINS.map(([field, name, label]) => ({
    name,
    label,
    value: asq3[field],
    scale: ASQ3_SCALE,
    higherIsBetter: true,
  }));
}

/** DfE: a pupil missing 10% or more of possible sessions is persistently absent. */
const PERSISTENT_ABSENCE: IndicatorThreshold = { value: 90, label: 'persistent absence at or below' };

/** Attendance % of the term, with its period; none when no sessions were possible. */
export function attendanceIndicators(data: DataOf<'education.attendance.summarised'>): Indicator[] {
  const percent = attendancePercent(data);
  if (percent === undefined) return [];
  return [
    {
      name: 'attendance',
      label: 'Attendance',
      value: percent,
      unit: '%',
      thresholds: [PERSISTENT_ABSENCE],
      period: { academicYear: data.academicYear, term: data.term },
      higherIsBetter: true,
    },
  ];
}

const KS2_SCALE = { name: 'ks2-scaled-score', min: 80, max: 120 } as const;
const KS2_EXPECTED: readonly IndicatorThreshold[] = [{ value: 100, label: 'expected standard' }];
const ATTAINMENT_8_SCALE = { name: 'attainment-8', min: 0, max: 90 } as const;
/** GCSE grades 9-1 as numbers, U as 0 (X, absent or no result, is no indicator). */
const GCSE_SCALE = { name: 'gcse-grade', min: 0, max: 9 } as const;
const GCSE_PASSES: readonly IndicatorThreshold[] = [
  { value: 4, label: 'standard pass' },
  { value: 5, label: 'strong pass' },
];

function gcseValue(grade: string | undefined): number | undefined {
  if (grade === undefined || grade === 'X') return undefined;
  return grade === 'U' ? 0 : Number(grade);
}

/**
 * Key stage results as indicators of their academic year: KS2 scaled scores (80-120, 100 the
 * expected standard), KS4 Attainment 8 (0-90) and GCSE English and maths grades (0 = U to 9).
 * The KS2 writing teacher assessment is a judgement, not a number: it stays in the summary.
 */
export function keyStageIndicators(data: DataOf<'education.key-stage.assessed'>): Indicator[] {
  const period = { academicYear: data.academicYear };
  const indicators: Indicator[] = [];
  const ks2: [number | undefined, string, string][] = [
    [data.ks2?.readingScaledScore, 'ks2-reading', 'KS2 reading scaled score'],
    [data.ks2?.mathsScaledScore, 'ks2-maths', 'KS2 maths scaled score'],
    [data.ks2?.gpsScaledScore, 'ks2-gps', 'KS2 grammar, punctuation and spelling scaled score'],
  ];
  for (const [value, name, label] of ks2) {
    if (value === undefined) continue;
    indicators.push({
      name,
      label,
      value,
      scale: KS2_SCALE,
      thresholds: KS2_EXPECTED,
      period,
      higherIsBetter: true,
    });
  }
  if (data.ks4?.attainment8 !== undefined) {
    indicators.push({
      name: 'attainment-8',
      label: 'Attainment 8',
      value: data.ks4.attainment8,
      scale: ATTAINMENT_8_SCALE,
      period,
      higherIsBetter: true,
    });
  }
  const gcse: [number | undefined, string, string][] = [
    [gcseValue(data.ks4?.englishGrade), 'gcse-english', 'GCSE English grade'],
    [gcseValue(data.ks4?.mathsGrade), 'gcse-maths', 'GCSE maths grade'],
  ];
  for (const [value, name, label] of gcse) {
    if (value === undefined) continue;
    indicators.push({
      name,
      label,
      value,
      scale: GCSE_SCALE,
      thresholds: GCSE_PASSES,
      period,
      higherIsBetter: true,
    });
  }
  return indicators;
}

/** An observation's rating on its named scale. */
export function ratingIndicators(rating: DataOf<'outcome.observation.recorded'>['rating']): Indicator[] {
  if (!rating) return [];
  return [
    {
      name: rating.scale,
      value: rating.value,
      scale: { name: rating.scale, min: rating.min, max: rating.max },
    },
  ];
}

/**
 * A measured observation (a quantity, or a component's quantity) as indicators named by its
 * code (`http://snomed.info/sct|27113001`), with the unit as recorded. Coded, yes/no and text
 * values stay in the summary: they are not numbers on a scale.
 */
export function observationIndicators(data: DataOf<'health.observation.recorded'>): Indicator[] {
  const measured = [
    ...(data.value ? [{ code: data.code, value: data.value }] : []),
    ...(data.components ?? []),
  ];
  return measured.flatMap(({ code, value }) =>
    value.kind === 'quantity'
      ? [
          {
            name: `${code.system}|${code.code}`,
            label: code.display ?? data.text ?? code.code,
            value: value.value,
            ...(value.unit ? { unit: value.unit } : {}),
          },
        ]
      : [],
  );
}
