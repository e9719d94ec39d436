// The analyst's page's pure logic, no DOM: built into the page's first script block (global
// AnalysisLogic) and run on its own by the tests. The page's own view of the analysis API
// (libs/analysis/types.ts is the server's; the page cannot import it, and the unit test checks
// that the server's shapes are assignable to these, so the two cannot drift apart unnoticed).

export type MeasureUnit = 'count' | 'proportion' | 'mean-days' | 'median-days' | 'mean-rating';

/** GET /v1/analysis/measures: one measure of the catalogue. */
export interface Measure {
  readonly id: string;
  readonly title: string;
  readonly definition: string;
  readonly source?: { readonly title: string; readonly url: string };
  readonly unit: MeasureUnit;
  readonly countOf: string;
  readonly eventTypes: readonly string[];
  readonly groupBy: readonly string[];
  readonly periods: readonly string[];
  readonly caveats: readonly string[];
  /** Whether the agreements in force let this analyst ask it (the catalogue says, per analyst). */
  readonly coverage?:
    | { readonly covered: true; readonly agreements: readonly string[] }
    | { readonly covered: false; readonly reason: string };
}

export type Agency = 'health' | 'education' | 'social-care';

export interface Cohort {
  entry?: { eventTypes: string[]; from?: string; to?: string; agencies?: Agency[] };
  ageBands?: string[];
  sex?: string[];
  ethnicityGroups?: string[];
  senStatus?: string[];
  localAuthorities?: string[];
}

/** The body of POST /v1/analysis/queries. */
export interface Query {
  measure: string;
  cohort: Cohort;
  groupBy: string[];
  period: string;
}

export interface Cell {
  readonly key: Readonly<Record<string, string>>;
  readonly count: number | null;
  readonly numerator?: number | null;
  readonly value: number | null;
  readonly suppressed: boolean;
  readonly reason?: string;
}

export interface Rules {
  readonly threshold: number;
  readonly roundingBase: number;
  readonly minimumCohort: number;
}

/** The answer of POST /v1/analysis/queries. */
export interface Answer {
  readonly measure: Measure;
  readonly query: {
    readonly measure: string;
    readonly groupBy: readonly string[];
    readonly period: string;
    readonly cohort: unknown;
  };
  readonly cohortSize: number;
  readonly cells: readonly Cell[];
  readonly rules: Rules;
  readonly asOfPosition: number;
}

/** The body of a refusal (ThroughlineError's JSON). */
export interface ErrorBody {
  error?: string;
  message?: string;
  issues?: { path: string; rule?: string; message: string }[];
}

/** GET /auth/me, as much as this page reads. */
export interface SignedIn {
  userId: string;
  name?: string;
  organisation?: { code: string; type?: string; name?: string };
  roles: string[];
  purposes: { id: string; label: string; permissions: string[] }[];
}

export const PURPOSE = 'analysis';

/** Age bands as DfE's releases publish them (libs/analysis/types.ts AGE_BANDS), in their order. */
export const AGE_BANDS = ['unborn', 'under-1', '1-4', '5-9', '10-15', '16-17', '18-plus'] as const;
export const AGENCIES: readonly Agency[] = ['health', 'education', 'social-care'];

/** The value a margin (total) cell carries in the dimension it sums over. */
export const TOTAL = 'total';

const AGENCY_NAMES: Record<string, string> = {
  health: 'Health',
  education: 'Education',
  'social-care': 'Social care',
};

const DIMENSION_NAMES: Record<string, string> = {
  period: 'Period',
  'age-band': 'Age band',
  sex: 'Sex',
  'ethnicity-group': 'Ethnicity group',
  'sen-status': 'SEN status',
  'local-authority': 'Local authority',
  agency: 'Agency',
  perspective: 'Perspective',
  'relative-term': 'Term relative to the event',
};

const PERIOD_NAMES: Record<string, string> = {
  'financial-year': 'Financial year (1 April to 31 March)',
  'academic-year': 'Academic year (1 September to 31 August)',
  'calendar-year': 'Calendar year',
  term: 'School term',
  month: 'Month',
};

const UNIT_NAMES: Record<MeasureUnit, string> = {
  count: 'Count',
  proportion: 'Per cent',
  'mean-days': 'Mean days',
  'median-days': 'Median days',
  'mean-rating': 'Mean rating',
};

/** "social-care" -> "Social care", "age-band" -> "Age band". */
export function humanise(slug: string): string {
  const words = slug.replace(/[-_.]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function dimensionName(dimension: string): string {
  return DIMENSION_NAMES[dimension] || humanise(dimension);
}

export function periodName(period: string): string {
  return PERIOD_NAMES[period] || humanise(period);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

export function unitName(unit: MeasureUnit): string {
  return UNIT_NAMES[unit] || humanise(unit);
}

export function agencyName(agency: string): string {
  return AGENCY_NAMES[agency] || humanise(agency);
}

/** How a dimension's value reads in a table or on an axis. */
export function valueLabel(dimension: string, value: string): string {
  if (value === TOTAL) return 'Total';
  if (dimension === 'relative-term') {
    const terms = Number(value);
    if (!Number.isInteger(terms)) return value;
    if (terms === 0) return 'Term of the event (0)';
    return `${terms > 0 ? '+' : '−'}${Math.abs(terms)} term${Math.abs(terms) === 1 ? '' : 's'}`;
  }
  if (dimension === 'age-band') {
    if (value === 'unborn') return 'Unborn';
    if (value === 'under-1') return 'Under 1';
    if (value === '18-plus') return '18 and over';
    return `${value.replace('-', ' to ')}`;
  }
  if (dimension === 'agency') return agencyName(value);
  return value;
}

/** Orders a dimension's values: age bands as published, terms by number, totals last, others as text with numbers. */
export function compareValues(dimension: string, a: string, b: string): number {
  if (a === b) return 0;
  if (a === TOTAL) return 1;
  if (b === TOTAL) return -1;
  if (dimension === 'age-band') {
    const order = AGE_BANDS as readonly string[];
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    if (ia >= 0 && ib >= 0) return ia - ib;
  }
  if (dimension === 'relative-term' && Number.isFinite(Number(a)) && Number.isFinite(Number(b)))
    return Number(a) - Number(b);
  return a.localeCompare(b, 'en-GB', { numeric: true });
}

// ---------------------------------------------------------------------------------------------
// The form, to a query.

/** The form's values as the page reads them (list fields are comma-separated text). */
export interface QueryForm {
  measure: string;
  entryEventTypes: string[];
  entryFrom: string;
  entryTo: string;
  agencies: string[];
  ageBands: string[];
  sex: string;
  ethnicityGroups: string;
  senStatus: string;
  localAuthorities: string;
  /** The two "group by" choices, '' for none. */
  groupBy: string[];
  period: string;
}

/** A problem with one field: `field` is the form control's id, so the page can point at it. */
export interface FormIssue {
  field: string;
  message: string;
}

export type BuiltQuery = { ok: true; query: Query } | { ok: false; issues: FormIssue[] };

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function isRealDate(text: string): boolean {
  if (!ISO_DATE.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** "a, b,,a " -> ["a", "b"]: comma-separated, trimmed, without repeats. */
export function splitList(text: string): string[] {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  return [...new Set(items)];
}

function listField(
  issues: FormIssue[],
  field: string,
  text: string,
  check: (item: string) => string | undefined,
): string[] | undefined {
  const items = splitList(text);
  for (const item of items) {
    const problem = check(item);
    if (problem) issues.push({ field, message: `“${item}”: ${problem}` });
  }
  return items.length ? items : undefined;
}

const maxLength = (limit: number) => (item: string) =>
  item.length > limit ? `at most ${limit} characters` : undefined;

/**
 * The query the form describes, or every problem with it (each naming its field), checked as the
 * API checks it (libs/analysis/types.ts analysisQuerySchema) and against what the measure offers,
 * so the analyst hears of a mistake before a query is spent on it.
 */
export function buildQuery(form: QueryForm, measure: Measure | undefined): BuiltQuery {
  const issues: FormIssue[] = [];
  if (!form.measure || !measure || measure.id !== form.measure)
    issues.push({ field: 'measure', message: 'Choose a measure.' });

  const cohort: Cohort = {};
  const eventTypes = [...new Set(form.entryEventTypes.filter(Boolean))];
  const agencies = form.agencies.filter((agency): agency is Agency =>
    (AGENCIES as readonly string[]).includes(agency),
  );
  for (const [field, value] of [
    ['entry-from', form.entryFrom],
    ['entry-to', form.entryTo],
  ] as const)
    if (value && !isRealDate(value)) issues.push({ field, message: 'A date, day month and year.' });
  if (isRealDate(form.entryFrom) && isRealDate(form.entryTo) && form.entryFrom > form.entryTo)
    issues.push({ field: 'entry-to', message: 'The last day is before the first day.' });
  if (eventTypes.length > 20)
    issues.push({ field: 'entry-event-types', message: 'At most 20 entry event types.' });
  if (eventTypes.length) {
    cohort.entry = {
      eventTypes,
      ...(form.entryFrom ? { from: form.entryFrom } : {}),
      ...(form.entryTo ? { to: form.entryTo } : {}),
      ...(agencies.length ? { agencies } : {}),
    };
  } else if (form.entryFrom || form.entryTo || agencies.length) {
    issues.push({
      field: 'entry-event-types',
      message: 'Choose at least one entry event: the dates and agencies narrow the entry events.',
    });
  }
  const ageBands = form.ageBands.filter((band) => (AGE_BANDS as readonly string[]).includes(band));
  if (ageBands.length) cohort.ageBands = ageBands;
  const sex = listField(issues, 'sex', form.sex, maxLength(20));
  if (sex) cohort.sex = sex;
  const ethnicity = listField(issues, 'ethnicity-groups', form.ethnicityGroups, maxLength(40));
  if (ethnicity) cohort.ethnicityGroups = ethnicity;
  const sen = listField(issues, 'sen-status', form.senStatus, maxLength(20));
  if (sen) cohort.senStatus = sen;
  const authorities = listField(issues, 'local-authorities', form.localAuthorities, (item) =>
    /^\d{3}$/.test(item) ? undefined : 'a local authority is its three-digit code, e.g. 991',
  );
  if (authorities) cohort.localAuthorities = authorities;

  const groupBy = form.groupBy.filter(Boolean);
  if (groupBy.length === 2 && groupBy[0] === groupBy[1])
    issues.push({ field: 'group-by-2', message: 'Group by two different things, or by one.' });
  if (!form.groupBy[0] && form.groupBy[1])
    issues.push({ field: 'group-by-1', message: 'Choose the first grouping before the second.' });
  if (measure)
    groupBy.forEach((dimension, index) => {
      if (!measure.groupBy.includes(dimension))
        issues.push({
          field: `group-by-${index + 1}`,
          message: `${measure.title} cannot be grouped by ${dimensionName(dimension).toLowerCase()}.`,
        });
    });
  if (!form.period) issues.push({ field: 'period', message: 'Choose a period.' });
  else if (measure && !measure.periods.includes(form.period))
    issues.push({
      field: 'period',
      message: `${measure.title} is not given by ${lowerFirst(periodName(form.period))}.`,
    });

  if (issues.length) return { ok: false, issues };
  return { ok: true, query: { measure: form.measure, cohort, groupBy, period: form.period } };
}

/** The body of POST /v1/analysis/exports: the query shown, and the format asked for. */
export function exportBody(query: Query, format: 'csv' | 'parquet'): Query & { format: 'csv' | 'parquet' } {
  return { ...query, format };
}

/** The file name a download is saved under: the server's (content-disposition), made safe, else the fallback. */
export function fileNameOf(contentDisposition: string | null, fallback: string): string {
  const header = contentDisposition || '';
  const encoded = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  let name: string | undefined;
  if (encoded) {
    try {
      name = decodeURIComponent(encoded[1].trim());
    } catch {
      name = undefined;
    }
  }
  if (!name)
    name = /filename\s*=\s*"([^"]*)"/i.exec(header)?.[1] ?? /filename\s*=\s*([^;]+)/i.exec(header)?.[1];
  // Only a plain name: no path, nothing a file system would read as one.
  const safe = (name || '')
    .trim()
    .replace(/[\\/:*?"<>|]+/g, '-')
    // Control characters too (a name is text, never a terminal's instruction).
    .replace(/\p{Cc}+/gu, '-')
    .replace(/^\.+/, '');
  return safe || fallback;
}

/** The fallback download name: the measure and the day. */
export function exportFileName(measure: string, format: 'csv' | 'parquet', today: Date): string {
  const slug = measure.replace(/[^a-z0-9-]+/gi, '-').toLowerCase();
  return `throughline-${slug}-${today.toISOString().slice(0, 10)}.${format}`;
}

// ---------------------------------------------------------------------------------------------
// The answer, in words, as a table and as chart data.

const numberFormat = (digits: number) =>
  new Intl.NumberFormat('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const COUNT = numberFormat(0);
const ONE_PLACE = numberFormat(1);

export function countText(count: number): string {
  return COUNT.format(count);
}

/** A value as its unit has it: per cent and means to one decimal place. */
export function valueText(unit: MeasureUnit, value: number): string {
  return unit === 'count' ? COUNT.format(value) : ONE_PLACE.format(value);
}

/** Why a cell is suppressed, in words. */
export function reasonText(reason: string | undefined, rules: Rules): string {
  switch (reason) {
    case 'below-threshold':
      return `fewer than ${rules.threshold}`;
    case 'secondary':
      return 'secondary suppression: it would reveal another suppressed cell';
    case 'numerator-below-threshold':
      return `fewer than ${rules.threshold} meet the condition`;
    case 'complement-below-threshold':
      return `fewer than ${rules.threshold} do not meet the condition`;
    case undefined:
      return 'suppressed';
    default:
      return humanise(reason).toLowerCase();
  }
}

/** The disclosure rules applied, in words, as an analyst's guidance note would say them. */
export function rulesText(rules: Rules): string[] {
  return [
    `Counts below ${rules.threshold} are suppressed and shown as c; further cells are suppressed where needed so that no suppressed cell can be worked out from the totals or the other cells of its row and column.`,
    `Counts are rounded to the nearest ${rules.roundingBase}; totals are rounded on their own, so the rounded cells may not add up to them.`,
    'Percentages and means are computed from the exact counts, and suppressed with them.',
    `A cohort of fewer than ${rules.minimumCohort} children is not answered, nor one that differs from an earlier query's by fewer than ${rules.threshold}.`,
  ];
}

/** How fresh the answer is: the store position the analysis model had reached, and when it was asked. */
export function freshnessText(asOfPosition: number, answeredAt: Date): string {
  const when = answeredAt.toISOString().replace('T', ' ').slice(0, 16);
  return `The analysis model had read the event store up to position ${COUNT.format(asOfPosition)} when this was answered (${when} UTC); events recorded since are not in it yet.`;
}

export interface TableColumn {
  id: string;
  label: string;
  numeric: boolean;
}

export interface TableCell {
  text: string;
  suppressed: boolean;
}

export interface TableRow {
  /** A margin: one of the dimensions is the total over it. */
  total: boolean;
  /** The dimensions' labels, one per groupBy. */
  heading: string[];
  values: TableCell[];
  /** Why the row's figures are suppressed, in words ('' when they are not). */
  note: string;
}

export interface AnswerTable {
  caption: string;
  columns: TableColumn[];
  rows: TableRow[];
  suppressedCells: number;
}

function countLabel(measure: Measure): string {
  return humanise(measure.countOf || 'count');
}

function sortCells(cells: readonly Cell[], groupBy: readonly string[]): Cell[] {
  return [...cells].sort((a, b) => {
    for (const dimension of groupBy) {
      const order = compareValues(dimension, a.key[dimension] ?? '', b.key[dimension] ?? '');
      if (order) return order;
    }
    return 0;
  });
}

const isTotal = (cell: Cell, groupBy: readonly string[]) =>
  groupBy.some((dimension) => cell.key[dimension] === TOTAL);

/**
 * The answer as a table: one row per cell (totals after the cells they sum), a column per
 * grouping, the count, the numerator for a proportion, the value, and why a suppressed row is.
 * Suppressed figures are `c` (the GSS and DfE symbol); a true zero stays 0.
 */
export function tableOf(answer: Answer): AnswerTable {
  const { measure, rules } = answer;
  const groupBy = answer.query.groupBy;
  const columns: TableColumn[] = [
    ...groupBy.map((dimension) => ({ id: dimension, label: dimensionName(dimension), numeric: false })),
    { id: 'count', label: countLabel(measure), numeric: true },
  ];
  if (measure.unit === 'proportion')
    columns.push({ id: 'numerator', label: 'Meeting the condition', numeric: true });
  if (measure.unit !== 'count')
    columns.push({ id: 'value', label: valueColumnLabel(measure.unit), numeric: true });
  columns.push({ id: 'note', label: 'Disclosure control', numeric: false });

  let suppressedCells = 0;
  const rows = sortCells(answer.cells, groupBy).map((cell): TableRow => {
    if (cell.suppressed) suppressedCells += 1;
    const figure = (value: number | null | undefined, format: (n: number) => string): TableCell =>
      cell.suppressed
        ? { text: 'c', suppressed: true }
        : { text: value === null || value === undefined ? '–' : format(value), suppressed: false };
    const values = [figure(cell.count, countText)];
    if (measure.unit === 'proportion') values.push(figure(cell.numerator, countText));
    if (measure.unit !== 'count') values.push(figure(cell.value, (n) => valueText(measure.unit, n)));
    return {
      total: isTotal(cell, groupBy),
      heading: groupBy.map((dimension) => valueLabel(dimension, cell.key[dimension] ?? '')),
      values,
      note: cell.suppressed ? `Suppressed: ${reasonText(cell.reason, rules)}` : '',
    };
  });
  const by = groupBy.length ? ` by ${groupBy.map((d) => dimensionName(d).toLowerCase()).join(' and ')}` : '';
  return {
    caption: `${measure.title}${by}, ${lowerFirst(periodName(answer.query.period))}. c = suppressed to protect confidentiality.`,
    columns,
    rows,
    suppressedCells,
  };
}

export function valueColumnLabel(unit: MeasureUnit): string {
  return unit === 'proportion' ? 'Per cent (%)' : unitName(unit);
}

export interface ChartDatum {
  /** The first grouping's value (the x axis), or the measure's title without grouping. */
  x: string;
  /** The second grouping's value (one panel each), when there is one. */
  facet?: string;
  y: number | null;
  suppressed: boolean;
  /** The text on the bar or the gap: the value, or "c" with the reason. */
  label: string;
  /** The tooltip and the accessible description of the point. */
  title: string;
}

export interface ChartSpec {
  data: ChartDatum[];
  /** The x values in order, as labels. */
  xOrder: string[];
  facetOrder: string[];
  xLabel: string;
  facetLabel?: string;
  yLabel: string;
  /** The top of the y axis (suppressed cells' gaps span it). */
  yMax: number;
  summary: string;
}

/** A round top for the y axis (31.2 -> 35, 480 -> 500), so the suppressed cells' frames reach it. */
export function niceCeiling(top: number): number {
  if (!(top > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(top)) / 2;
  return Math.ceil(top / step) * step;
}

/**
 * The answer as bars: x the first grouping, a panel per value of the second, y the value (the
 * count for a count measure). Totals stay in the table: beside their parts they would dwarf
 * them. A suppressed cell is a gap marked "c", never a bar of some height.
 */
export function chartOf(answer: Answer): ChartSpec {
  const { measure, rules } = answer;
  const groupBy = answer.query.groupBy;
  const [xDimension, facetDimension] = groupBy;
  const cells = sortCells(
    answer.cells.filter((cell) => !isTotal(cell, groupBy)),
    groupBy,
  );
  const yOf = (cell: Cell): number | null => (measure.unit === 'count' ? cell.count : cell.value);
  const data = cells.map((cell): ChartDatum => {
    const x = xDimension ? valueLabel(xDimension, cell.key[xDimension] ?? '') : measure.title;
    const facet = facetDimension ? valueLabel(facetDimension, cell.key[facetDimension] ?? '') : undefined;
    const y = cell.suppressed ? null : yOf(cell);
    const where = [x, facet].filter(Boolean).join(', ');
    const label = cell.suppressed ? 'c' : y === null ? '–' : valueText(measure.unit, y);
    const title = cell.suppressed
      ? `${where}: suppressed (${reasonText(cell.reason, rules)})`
      : `${where}: ${label}${measure.unit === 'proportion' && y !== null ? '%' : ''}`;
    return { x, ...(facet !== undefined ? { facet } : {}), y, suppressed: cell.suppressed, label, title };
  });
  const unique = (values: (string | undefined)[]) => [
    ...new Set(values.filter((value): value is string => value !== undefined)),
  ];
  const values = data.map((datum) => datum.y).filter((y): y is number => y !== null);
  const top = values.length ? Math.max(...values) : 0;
  const yMax = measure.unit === 'proportion' ? 100 : niceCeiling(top);
  const suppressed = data.filter((datum) => datum.suppressed).length;
  return {
    data,
    xOrder: unique(data.map((datum) => datum.x)),
    facetOrder: unique(data.map((datum) => datum.facet)),
    xLabel: xDimension ? dimensionName(xDimension) : '',
    ...(facetDimension ? { facetLabel: dimensionName(facetDimension) } : {}),
    yLabel: measure.unit === 'count' ? countLabel(measure) : valueColumnLabel(measure.unit),
    yMax,
    summary:
      `${measure.title}: ${data.length} bar${data.length === 1 ? '' : 's'}` +
      (suppressed ? `, ${suppressed} suppressed (marked c, no bar)` : '') +
      '. The table that follows gives every figure.',
  };
}

/** What was asked, in words, for the screen and for print: [label, text] pairs. */
export function describeQuery(query: Query, measure: Measure | undefined): [string, string][] {
  const lines: [string, string][] = [['Measure', measure ? measure.title : query.measure]];
  const cohort = query.cohort;
  const parts: string[] = [];
  if (cohort.entry) {
    const { eventTypes, from, to, agencies } = cohort.entry;
    let entry = `with ${eventTypes.join(' or ')}`;
    if (from && to) entry += ` from ${from} to ${to}`;
    else if (from) entry += ` from ${from}`;
    else if (to) entry += ` up to ${to}`;
    if (agencies) entry += ` (${agencies.map(agencyName).join(', ')})`;
    parts.push(entry);
  }
  if (cohort.ageBands)
    parts.push(`aged ${cohort.ageBands.map((band) => valueLabel('age-band', band)).join(', ')}`);
  if (cohort.sex) parts.push(`sex ${cohort.sex.join(', ')}`);
  if (cohort.ethnicityGroups) parts.push(`ethnicity group ${cohort.ethnicityGroups.join(', ')}`);
  if (cohort.senStatus) parts.push(`SEN status ${cohort.senStatus.join(', ')}`);
  if (cohort.localAuthorities) parts.push(`local authority ${cohort.localAuthorities.join(', ')}`);
  lines.push([
    'Cohort',
    parts.length ? `Children ${parts.join('; ')}` : 'All children in the analysis model',
  ]);
  lines.push([
    'Grouped by',
    query.groupBy.length ? query.groupBy.map(dimensionName).join(', then ') : 'Not grouped',
  ]);
  lines.push(['Period', periodName(query.period)]);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Refusals.

export type RefusalKind =
  | 'sign-in'
  | 'minimum-cohort'
  | 'differencing'
  | 'unprotectable'
  | 'agreement'
  | 'not-allowed'
  | 'invalid'
  | 'unavailable'
  | 'failed';

export interface Refusal {
  kind: RefusalKind;
  title: string;
  message: string;
  details: string[];
}

const MINIMUM_COHORT = 'The cohort is too small to answer';
const DIFFERENCING = 'Too close to an earlier query';
const UNPROTECTABLE = 'This grouping cannot be protected';

/**
 * A refusal the analyst can act on: the API's own message and its issues, under a heading that
 * says which rule refused (the cohort too small, too close to an earlier query, no agreement).
 */
export function refusalOf(status: number, body: ErrorBody | undefined): Refusal {
  const message = (body && body.message) || `The service answered ${status}.`;
  const issues = (body && body.issues) || [];
  const details = issues.map((issue) => `${issue.path}: ${issue.message}`);
  const said = [message, ...issues.map((issue) => `${issue.rule ?? ''} ${issue.path} ${issue.message}`)]
    .join(' ')
    .toLowerCase();
  const refusal = (kind: RefusalKind, title: string): Refusal => ({ kind, title, message, details });
  if (status === 401) return refusal('sign-in', 'Sign in again');
  // The rule the API named first; the words of its message only when it named none.
  const rules = issues.map((issue) => issue.rule);
  if (rules.includes('minimum-cohort')) return refusal('minimum-cohort', MINIMUM_COHORT);
  if (rules.includes('differencing')) return refusal('differencing', DIFFERENCING);
  if (rules.includes('unprotectable')) return refusal('unprotectable', UNPROTECTABLE);
  if (/differenc|differs from .*earlier/.test(said)) return refusal('differencing', DIFFERENCING);
  if (/minimum[- _]?cohort|cohort (is )?too small/.test(said))
    return refusal('minimum-cohort', MINIMUM_COHORT);
  if (/agreement/.test(said)) return refusal('agreement', 'No data-sharing agreement covers this measure');
  if (status === 403) return refusal('not-allowed', 'Not allowed');
  if (status === 400 || status === 422) return refusal('invalid', 'The query was refused');
  if (status === 429 || status === 503) return refusal('unavailable', 'The service is busy or unavailable');
  return refusal('failed', `The query failed (${status})`);
}

/** The measure's option in the list: its title, and when no agreement lets this analyst ask it, that. */
export function measureOptionText(measure: Measure): string {
  return measure.coverage && !measure.coverage.covered
    ? `${measure.title} (no agreement covers it)`
    : measure.title;
}

/** Under which agreements the measure may be asked, or why not, in words (undefined: the catalogue does not say). */
export function coverageText(measure: Measure): string | undefined {
  if (!measure.coverage) return undefined;
  if (measure.coverage.covered)
    return measure.coverage.agreements.length
      ? `Shared under ${measure.coverage.agreements.join(', ')}.`
      : 'Shared under the agreements in force.';
  return `Not answered for you: ${measure.coverage.reason}.`;
}

/** Whether the signed-in person may ask for analysis at all (the page says so rather than failing later). */
export function mayAnalyse(signedIn: SignedIn): boolean {
  return signedIn.purposes.some((purpose) => purpose.id === PURPOSE && purpose.permissions.length > 0);
}
