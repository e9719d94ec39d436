// An AnalysisAnswer laid out as one tidy table (DfE open-data standard, ANALYSIS.md section 3
// and its source: analysts-guide statistics-production/ud.qmd): one row per cell, time and
// geography columns first, one filter column per groupBy dimension, then the indicators. The CSV
// and the Parquet writers both render this one table, so the two formats and the data
// dictionary cannot drift apart.
import { type AnalysisAnswer, type Cell, MARGIN_TOTAL, type MeasureUnit, type Period } from '../types';

/** Where a column sits in the DfE standard: standard time/geography filters, other filters, indicators, and our flags. */
export type ColumnKind = 'Time' | 'Geography' | 'Filter' | 'Indicator' | 'Flag';

/** The Parquet (DuckDB) type of a column: plain types every Parquet reader maps (pandas, R arrow, Spark). */
export type ParquetType = 'VARCHAR' | 'INTEGER' | 'DOUBLE' | 'BOOLEAN';

export interface TidyColumn {
  /** snake_case, as the DfE standard wants (no spaces, not starting with a digit). */
  readonly name: string;
  readonly kind: ColumnKind;
  readonly label: string;
  readonly parquetType: ParquetType;
  /** What the CSV column holds (every CSV column is text; this says what text). */
  readonly csvType: string;
  readonly unit?: string;
  readonly notes: string;
}

/**
 * An indicator the answer does not give. `c` (GSS/DfE "confidential"): withheld by disclosure
 * control. `z` ("not applicable"): the cell was not suppressed but has no such figure (a mean
 * over no units). In Parquet both are NULL; the `suppressed` column tells them apart.
 */
export interface Missing {
  readonly symbol: 'c' | 'z';
}

export type TidyValue = string | number | boolean | null | Missing;

export interface TidyTable {
  readonly columns: readonly TidyColumn[];
  /** One array per cell of the answer, in the answer's order, aligned with `columns`. */
  readonly rows: readonly (readonly TidyValue[])[];
}

export const isMissing = (value: TidyValue): value is Missing =>
  typeof value === 'object' && value !== null && 'symbol' in value;

/** The key value disclosure control gives a margin (a row or column total); shown as DfE's 'Total'. */
const isTotal = (value: string | undefined) => value === MARGIN_TOTAL;

/** DfE's time_identifier for each of our periods (the standard's list of allowable values). */
const TIME_IDENTIFIER: Readonly<Record<Period, string>> = {
  'financial-year': 'Financial year',
  'academic-year': 'Academic year',
  'calendar-year': 'Calendar year',
  term: 'Academic year',
  month: 'Calendar year',
};

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** '2023-24', '2023/24', '202324' or '2023' (the starting year) as DfE's six digits '202324'. */
function sixDigitYear(text: string): string | undefined {
  const pair = /^(\d{4})\s*[-/]?\s*(\d{2})$/.exec(text);
  if (pair) return `${pair[1]}${pair[2]}`;
  const start = /^(\d{4})$/.exec(text);
  if (start) return `${start[1]}${String((Number(start[1]) + 1) % 100).padStart(2, '0')}`;
  return undefined;
}

/**
 * time_period and time_identifier for one cell's period key, as the DfE standard writes them:
 * financial and academic years as six digits (202324), calendar years as four, a term as its
 * academic year with 'Autumn term' etc., a month as its year with the month's name. A margin
 * over periods ('total') and an answer not broken down by period leave time_period blank (all
 * the cohort's periods together). A key we cannot read is written as it came, never dropped.
 */
export function timeColumns(period: Period, key: string | undefined): [string, string] {
  const identifier = TIME_IDENTIFIER[period];
  if (key === undefined || isTotal(key)) return ['', identifier];
  const text = key.trim();
  switch (period) {
    case 'financial-year':
    case 'academic-year':
      return [sixDigitYear(text) ?? text, identifier];
    case 'calendar-year':
      return [text, identifier];
    case 'month': {
      const month = /^(\d{4})-(\d{2})$/.exec(text);
      const name = month ? MONTHS[Number(month[2]) - 1] : undefined;
      return month && name ? [month[1], name] : [text, identifier];
    }
    case 'term': {
      const term = /(autumn|spring|summer)/i.exec(text);
      const year = sixDigitYear(
        text.replace(/(autumn|spring|summer)(\s*term)?/i, '').replace(/^[\s-]+|[\s-]+$/g, ''),
      );
      return term && year
        ? [year, `${term[1][0].toUpperCase()}${term[1].slice(1).toLowerCase()} term`]
        : [text, identifier];
    }
  }
}

/** Filter columns for groupBy dimensions other than period and local authority (those are time and geography). */
const FILTERS: Readonly<
  Record<string, { name: string; label: string; notes: string; labels?: Readonly<Record<string, string>> }>
> = {
  'age-band': {
    name: 'age_band',
    label: 'Age band',
    notes: "The child's age band at the cohort's entry event, as DfE's children in need releases band ages.",
  },
  sex: {
    name: 'sex',
    label: 'Sex',
    notes: 'Sex as the providing agency recorded it, with the DfE harmonised entries Male, Female, Unknown.',
    labels: { male: 'Male', female: 'Female', unknown: 'Unknown' },
  },
  'ethnicity-group': {
    name: 'ethnicity_major',
    label: 'Ethnicity (major group)',
    notes:
      'Major ethnic group, where the agency recorded ethnicity: the GSS harmonised major groups (DfE name ethnicity_major); refused and not-obtained as the returns code them.',
    // The GSS harmonised standard's major groups, as DfE's open-data standard lists them.
    labels: {
      white: 'White',
      mixed: 'Mixed / Multiple ethnic groups',
      asian: 'Asian / Asian British',
      black: 'Black / African / Caribbean / Black British',
      other: 'Other ethnic group',
    },
  },
  'sen-status': { name: 'sen_status', label: 'SEN status', notes: 'Special educational needs status.' },
  agency: {
    name: 'agency',
    label: 'Agency',
    notes: 'The providing agency: health, education or social-care.',
  },
  perspective: {
    name: 'perspective',
    label: 'Perspective',
    notes: "Whose view the rating is (the child, the family, a professional's).",
  },
  'relative-term': {
    name: 'relative_term',
    label: 'Term relative to the aligning event',
    notes: 'School terms before (negative) and after the aligning event; 0 is the term the event falls in.',
  },
};

const snakeCase = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/^(\d)/, 'd_$1') || 'dimension';

const VALUE_UNIT: Readonly<Record<MeasureUnit, string>> = {
  count: 'number',
  proportion: '%',
  'mean-days': 'days',
  'median-days': 'days',
  'mean-rating': 'rating',
};

const VALUE_LABEL: Readonly<Record<MeasureUnit, (countOf: string) => string>> = {
  count: (countOf) => `Number of ${countOf}`,
  proportion: (countOf) => `Percentage of ${countOf} meeting the measure`,
  'mean-days': (countOf) => `Mean days, over ${countOf}`,
  'median-days': (countOf) => `Median days, over ${countOf}`,
  'mean-rating': (countOf) => `Mean rating, over ${countOf}`,
};

const SYMBOLS_NOTE =
  'c when suppressed by disclosure control, z when not applicable (no units to compute it over).';

/** A whole number, or the symbols c / z: the CSV text of a count. */
const COUNT_CSV = 'integer, or c / z';

function indicator(value: number | null | undefined, cell: Cell): number | Missing {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return { symbol: cell.suppressed ? 'c' : 'z' };
}

/**
 * The answer as a tidy table. Disclosure control has already been applied to the cells; the one
 * thing this adds is belt and braces: a suppressed cell's `value` is never written, whatever it
 * holds, since a rate from suppressed counts is itself disclosive.
 */
export function tidyTable(answer: AnalysisAnswer): TidyTable {
  const { measure, query, cells } = answer;
  const dimensions = query.groupBy;
  const byLocalAuthority = dimensions.includes('local-authority');
  // A cohort of one LA not broken down by LA is that LA's figure: say so in the geography columns.
  const singleLa = !byLocalAuthority && query.cohort.localAuthorities?.length === 1;
  const filterDimensions = dimensions.filter((d) => d !== 'period' && d !== 'local-authority');
  const relativeTermIsInteger = cells.every((cell) => {
    const key = cell.key['relative-term'];
    return key === undefined || /^[+-]?\d+$/.test(key.trim());
  });
  const hasNumerator = measure.unit === 'proportion' || cells.some((cell) => cell.numerator !== undefined);

  const columns: TidyColumn[] = [
    {
      name: 'time_period',
      kind: 'Time',
      label: 'Time period',
      parquetType: 'VARCHAR',
      csvType: 'text: six digits (202324) for financial and academic years, four for calendar years',
      notes: dimensions.includes('period')
        ? 'The period of the row (financial year 1 April to 31 March unless time_identifier says otherwise). Blank: all periods together (a total).'
        : 'Blank: this answer is not broken down by period; it covers every period of the cohort.',
    },
    {
      name: 'time_identifier',
      kind: 'Time',
      label: 'Time identifier',
      parquetType: 'VARCHAR',
      csvType: 'text (DfE allowable value)',
      notes:
        'What kind of period time_period is: Financial year, Academic year, Calendar year, a term or a month.',
    },
  ];
  if (byLocalAuthority || singleLa) {
    columns.push(
      {
        name: 'geographic_level',
        kind: 'Geography',
        label: 'Geographic level',
        parquetType: 'VARCHAR',
        csvType: 'text',
        notes:
          'Local authority; Total for a margin over the local authorities in this export (not a national figure: only those whose data Throughline holds).',
      },
      {
        name: 'country_code',
        kind: 'Geography',
        label: 'Country code',
        parquetType: 'VARCHAR',
        csvType: 'text (GSS code)',
        notes: 'E92000001 (England).',
      },
      {
        name: 'country_name',
        kind: 'Geography',
        label: 'Country',
        parquetType: 'VARCHAR',
        csvType: 'text',
        notes: 'England.',
      },
      {
        name: 'old_la_code',
        kind: 'Geography',
        label: 'Local authority code (3 digits)',
        parquetType: 'VARCHAR',
        csvType: 'text: three digits, kept as text (leading zeros)',
        notes: 'The DfE three-digit local authority code as the returns carry it.',
      },
      {
        name: 'new_la_code',
        kind: 'Geography',
        label: 'Local authority code (GSS)',
        parquetType: 'VARCHAR',
        csvType: 'text (blank)',
        notes:
          'Blank: Throughline holds no lookup from DfE to GSS codes (the standard leaves it blank where there is none).',
      },
      {
        name: 'la_name',
        kind: 'Geography',
        label: 'Local authority',
        parquetType: 'VARCHAR',
        csvType: 'text (blank)',
        notes: 'Blank: no name lookup is held; join on old_la_code.',
      },
    );
  }
  for (const dimension of filterDimensions) {
    const known = FILTERS[dimension];
    const integer = dimension === 'relative-term' && relativeTermIsInteger;
    columns.push({
      name: known?.name ?? snakeCase(dimension),
      kind: 'Filter',
      label: known?.label ?? dimension,
      parquetType: integer ? 'INTEGER' : 'VARCHAR',
      csvType: integer ? 'integer' : 'text',
      notes: `${known?.notes ?? `Grouped by ${dimension}.`} Total: all values together (a margin).`.trim(),
    });
  }
  columns.push({
    name: 'count',
    kind: 'Indicator',
    label: `Number of ${measure.countOf}`,
    parquetType: 'INTEGER',
    csvType: COUNT_CSV,
    unit: 'number',
    notes: `The ${measure.countOf} in the cell, rounded to the nearest ${answer.rules.roundingBase}. ${SYMBOLS_NOTE}`,
  });
  if (hasNumerator) {
    columns.push({
      name: 'numerator',
      kind: 'Indicator',
      label: `Number of ${measure.countOf} meeting the measure`,
      parquetType: 'INTEGER',
      csvType: COUNT_CSV,
      unit: 'number',
      notes: `Of count, how many meet the measure's condition, rounded to the nearest ${answer.rules.roundingBase}. ${SYMBOLS_NOTE}`,
    });
  }
  columns.push(
    {
      name: 'value',
      kind: 'Indicator',
      label: VALUE_LABEL[measure.unit](measure.countOf),
      parquetType: 'DOUBLE',
      csvType: 'decimal, or c / z',
      unit: VALUE_UNIT[measure.unit],
      notes: `${measure.title}: computed from the exact (unrounded) counts. ${SYMBOLS_NOTE}`,
    },
    {
      name: 'suppressed',
      kind: 'Flag',
      label: 'Suppressed by disclosure control',
      parquetType: 'BOOLEAN',
      csvType: 'true / false',
      notes: 'true when disclosure control withheld figures of this row (shown as c; NULL in Parquet).',
    },
    {
      name: 'suppression_reason',
      kind: 'Flag',
      label: 'Why the row was suppressed',
      parquetType: 'VARCHAR',
      csvType: 'text, blank when not suppressed',
      notes:
        'below-threshold: fewer units than the threshold; numerator-below-threshold / complement-below-threshold: too few meet (or do not meet) the condition; secondary: suppressed so that another suppressed cell cannot be worked out from totals.',
    },
  );

  const rows = cells.map((cell) => {
    const row: TidyValue[] = [
      ...timeColumns(query.period, dimensions.includes('period') ? cell.key.period : undefined),
    ];
    if (byLocalAuthority || singleLa) {
      const la = byLocalAuthority ? cell.key['local-authority'] : query.cohort.localAuthorities?.[0];
      const total = isTotal(la);
      row.push(total ? 'Total' : 'Local authority', 'E92000001', 'England', total ? '' : (la ?? ''), '', '');
    }
    for (const dimension of filterDimensions) {
      const key = cell.key[dimension];
      if (key === undefined) row.push(null);
      // A term as a number even in a text column (one with a Total): CSV writes it as -4, not as the formula-escaped '-4.
      else if (dimension === 'relative-term' && /^[+-]?\d+$/.test(key.trim())) row.push(Number(key.trim()));
      else if (isTotal(key)) row.push('Total');
      else row.push(FILTERS[dimension]?.labels?.[key] ?? key);
    }
    row.push(indicator(cell.count, cell));
    if (hasNumerator) row.push(indicator(cell.numerator, cell));
    row.push(cell.suppressed ? { symbol: 'c' } : indicator(cell.value, cell));
    row.push(cell.suppressed, cell.suppressed ? (cell.reason ?? null) : null);
    return row;
  });
  return { columns, rows };
}
