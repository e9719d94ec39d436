import { z } from 'zod';

/**
 * The analysis context's shared vocabulary (issue 15): what an analyst asks (a measure, a cohort,
 * how to group, which periods), what a measure computes before disclosure control (raw cells, in
 * the database only, never sent), and what leaves after it (controlled cells).
 */

/** Age bands as DfE's children-in-need and looked-after releases publish them. */
export const AGE_BANDS = ['unborn', 'under-1', '1-4', '5-9', '10-15', '16-17', '18-plus'] as const;
export type AgeBand = (typeof AGE_BANDS)[number];

/** Dimensions a result may be grouped by (at most two). */
export const GROUP_BY = [
  'period',
  'age-band',
  'sex',
  'ethnicity-group',
  'sen-status',
  'local-authority',
  'agency',
  'perspective',
  /** Terms relative to an aligning event (-4 … +6), for attendance around a plan start etc. */
  'relative-term',
] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/** Reporting periods: the financial year (1 April–31 March) is the returns' year. */
export const PERIODS = ['financial-year', 'academic-year', 'calendar-year', 'term', 'month'] as const;
export type Period = (typeof PERIODS)[number];

const isoDate = z.iso.date({ message: 'a date YYYY-MM-DD' });

/**
 * A cohort: children with at least one event of the entry types (between from and to, by the
 * given agencies), narrowed by characteristics. Characteristics are as the analysis model holds
 * them (age band at the entry event, sex, ethnicity group, SEN status, local authority).
 */
export const cohortSchema = z.strictObject({
  entry: z
    .strictObject({
      eventTypes: z.array(z.string().min(1)).min(1).max(20),
      from: isoDate.optional(),
      to: isoDate.optional(),
      agencies: z
        .array(z.enum(['health', 'education', 'social-care']))
        .min(1)
        .optional(),
    })
    .optional(),
  ageBands: z.array(z.enum(AGE_BANDS)).min(1).optional(),
  sex: z.array(z.string().min(1).max(20)).min(1).optional(),
  ethnicityGroups: z.array(z.string().min(1).max(40)).min(1).optional(),
  senStatus: z.array(z.string().min(1).max(20)).min(1).optional(),
  localAuthorities: z
    .array(z.string().regex(/^\d{3}$/, { message: 'a three-digit LA code' }))
    .min(1)
    .optional(),
});
export type Cohort = z.infer<typeof cohortSchema>;

export const analysisQuerySchema = z.strictObject({
  measure: z.string().min(1).max(80),
  cohort: cohortSchema.default({}),
  groupBy: z.array(z.enum(GROUP_BY)).max(2).default([]),
  period: z.enum(PERIODS).default('financial-year'),
});
export type AnalysisQuery = z.infer<typeof analysisQuerySchema>;

/** What a measure's value is. `proportion`: numerator/count as a percentage; `mean-days`, `median-days`: of `count` units. */
export type MeasureUnit = 'count' | 'proportion' | 'mean-days' | 'median-days' | 'mean-rating';

/** One entry of the catalogue (GET /v1/analysis/measures). */
export interface MeasureDefinition {
  readonly id: string;
  readonly title: string;
  /** The definition in words, as the official source has it where there is one. */
  readonly definition: string;
  /** Where the definition comes from (e.g. DfE LAIT data dictionary), with its address. */
  readonly source?: { readonly title: string; readonly url: string };
  readonly unit: MeasureUnit;
  /** What is counted in `count`: children, referrals, plans, placements, terms… */
  readonly countOf: string;
  /** Event types the measure reads (the agreements consulted for it cover these). */
  readonly eventTypes: readonly string[];
  readonly groupBy: readonly GroupBy[];
  readonly periods: readonly Period[];
  readonly caveats: readonly string[];
}

/**
 * One cell before disclosure control: exact counts from the analysis model. Never leaves the
 * server; disclosure control turns it into a Cell.
 */
export interface RawCell {
  /** The cell's place: one value per groupBy dimension, e.g. { period: '2023-24', 'age-band': '5-9' }. */
  readonly key: Readonly<Record<string, string>>;
  /** Units in the cell (the denominator of a proportion, the n of a mean). */
  readonly count: number;
  /** Proportions: how many of `count` meet the condition. */
  readonly numerator?: number;
  /** Means and medians: the value over the exact data. */
  readonly value?: number;
  /** Distinct children contributing (where units are not children), for the threshold. */
  readonly children?: number;
}

export interface RawResult {
  readonly measure: string;
  readonly unit: MeasureUnit;
  readonly groupBy: readonly GroupBy[];
  readonly period: Period;
  /** Children in the cohort (exact; for the minimum-cohort and differencing rules only). */
  readonly cohortSize: number;
  /**
   * Each unit falls in exactly one cell, so cells sum to meaningful totals (children by age band).
   * Disclosure control then publishes the margins (keyed MARGIN_TOTAL) and protects suppressed
   * cells from being recovered through them. Not additive: a unit may count in several cells
   * (a child in each term around a plan start), so no totals are published.
   */
  readonly additive: boolean;
  readonly cells: readonly RawCell[];
}

export type SuppressionReason =
  'below-threshold' | 'secondary' | 'numerator-below-threshold' | 'complement-below-threshold';

/**
 * The key value of a margin: { 'age-band': 'total' } is the total over age bands; in a two-way
 * table { period: '2023-24', sex: 'total' } is a row total and both 'total' the grand total.
 */
export const MARGIN_TOTAL = 'total';

/** One cell as it leaves: rounded counts, a value computed from the exact counts, or suppressed with why. */
export interface Cell {
  readonly key: Readonly<Record<string, string>>;
  readonly count: number | null;
  readonly numerator?: number | null;
  readonly value: number | null;
  readonly suppressed: boolean;
  readonly reason?: SuppressionReason;
}

/** The disclosure rules in force (ANALYSIS_SUPPRESSION_THRESHOLD, ANALYSIS_ROUNDING_BASE, ANALYSIS_MINIMUM_COHORT). */
export interface DisclosureRules {
  /** Cells (and numerators, and their complements) below this are suppressed. Default 10. */
  readonly threshold: number;
  /** Counts are rounded to the nearest multiple of this. Default 5. */
  readonly roundingBase: number;
  /** A cohort smaller than this is refused outright. Default 20. */
  readonly minimumCohort: number;
}

export const DEFAULT_DISCLOSURE_RULES: DisclosureRules = {
  threshold: 10,
  roundingBase: 5,
  minimumCohort: 20,
};

/** The answer of POST /v1/analysis/queries. */
export interface AnalysisAnswer {
  readonly measure: MeasureDefinition;
  readonly query: AnalysisQuery;
  /** The cohort size, rounded as counts are. */
  readonly cohortSize: number;
  readonly cells: readonly Cell[];
  readonly rules: DisclosureRules;
  /** Model freshness: the store position the analysis model has reached. */
  readonly asOfPosition: number;
}

/**
 * The analysis read side as the HTTP layer sees it (built in apps/projection/app.ts, provided to
 * controllers under ANALYSIS_READS). Exact results: disclosure control is applied after it.
 */
export interface AnalysisReads {
  /** The catalogue, in a stable order. */
  catalogue(): readonly MeasureDefinition[];
  /** Runs a measure over the analysis model. Refuses (ValidationError naming the field and rule) a measure it does not know or a groupBy/period the measure does not offer. */
  run(query: AnalysisQuery): Promise<RawResult>;
  /** The store position the analysis model has reached. */
  position(): Promise<number>;
}

/** The Nest injection token of the AnalysisReads. */
export const ANALYSIS_READS = Symbol('AnalysisReads');
