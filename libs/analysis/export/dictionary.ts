// The data dictionary that goes with every export: what each column is (the DfE `.meta.csv`
// idea, widened to say the CSV text and the Parquet type of each column) and what the dataset is
// (the measure's definition, source and caveats, the query, the disclosure rules applied).
import { type AnalysisAnswer } from '../types';
import { type TidyColumn } from './tidy-table';

/** One fact about the whole dataset; a caveat is one fact per caveat. */
export interface DatasetFact {
  readonly key: string;
  readonly label: string;
  readonly value: string;
}

export interface DataDictionary {
  readonly columns: readonly TidyColumn[];
  readonly dataset: readonly DatasetFact[];
}

export interface DictionaryOptions {
  /** When the export was written (left out when not given, so the same answer gives the same bytes). */
  readonly generatedAt?: Date;
}

export function datasetFacts(answer: AnalysisAnswer, options: DictionaryOptions = {}): DatasetFact[] {
  const { measure, query, rules } = answer;
  const facts: DatasetFact[] = [
    { key: 'measure_id', label: 'Measure', value: measure.id },
    { key: 'measure_title', label: 'Title', value: measure.title },
    { key: 'definition', label: 'Definition', value: measure.definition },
  ];
  if (measure.source)
    facts.push({
      key: 'source',
      label: 'Source of the definition',
      value: `${measure.source.title} <${measure.source.url}>`,
    });
  facts.push(
    { key: 'unit', label: 'Unit of the value column', value: measure.unit },
    { key: 'count_of', label: 'What count counts', value: measure.countOf },
    { key: 'event_types', label: 'Event types read', value: measure.eventTypes.join(', ') },
    ...measure.caveats.map((caveat) => ({ key: 'caveat', label: 'Caveat', value: caveat })),
    { key: 'cohort', label: "Cohort (the query's filter, JSON)", value: JSON.stringify(query.cohort) },
    { key: 'group_by', label: 'Grouped by', value: query.groupBy.join(', ') || '(not grouped)' },
    { key: 'period', label: 'Reporting period', value: query.period },
    {
      key: 'cohort_size',
      label: 'Children in the cohort',
      value: `${answer.cohortSize} (rounded to the nearest ${rules.roundingBase})`,
    },
    {
      key: 'disclosure_control',
      label: 'Disclosure control applied',
      value:
        `Cells with more than 0 and fewer than ${rules.threshold} units, and proportions whose numerator or ` +
        `complement is more than 0 and fewer than ${rules.threshold}, are suppressed (c); 0 is a true zero and ` +
        `is shown. Further cells are suppressed so that none can be worked out from totals or from the other ` +
        `cells of its row and column (secondary). Counts are rounded to the nearest ${rules.roundingBase}; ` +
        `rates and means are computed from the exact counts and suppressed with them. A cohort under ` +
        `${rules.minimumCohort} children is refused, and so is a cohort that differs from an earlier ` +
        `one of the same analyst by fewer than ${rules.threshold} children.`,
    },
    { key: 'suppression_threshold', label: 'Suppression threshold', value: String(rules.threshold) },
    { key: 'rounding_base', label: 'Counts rounded to the nearest', value: String(rules.roundingBase) },
    { key: 'minimum_cohort', label: 'Minimum cohort size', value: String(rules.minimumCohort) },
    {
      key: 'symbols',
      label: 'Symbols (GSS / DfE)',
      value:
        'c: confidential, suppressed by disclosure control; z: not applicable. In Parquet both are NULL.',
    },
    {
      key: 'as_of_position',
      label: 'Analysis model as of store position',
      value: String(answer.asOfPosition),
    },
  );
  if (options.generatedAt)
    facts.push({ key: 'generated_at', label: 'Exported at', value: options.generatedAt.toISOString() });
  return facts;
}

/** The header of the `.meta.csv`: DfE's col_name / col_type / label first, then ours. */
export const META_CSV_HEADER = [
  'col_name',
  'col_type',
  'label',
  'csv_type',
  'parquet_type',
  'unit',
  'notes',
] as const;

/**
 * The dictionary as the rows of the `.meta.csv`: a row per column of the data file, then the
 * dataset's facts as rows of col_type `Dataset` (col_name the fact's key, notes its value), so
 * one small CSV, read by any tool, says everything the Parquet's metadata says.
 */
export function metaRows(dictionary: DataDictionary): string[][] {
  return [
    ...dictionary.columns.map((column) => [
      column.name,
      column.kind,
      column.label,
      column.csvType,
      column.parquetType,
      column.unit ?? '',
      column.notes,
    ]),
    ...dictionary.dataset.map((fact) => [fact.key, 'Dataset', fact.label, '', '', '', fact.value]),
  ];
}
