import {
  analysisQuerySchema,
  DEFAULT_DISCLOSURE_RULES,
  MARGIN_TOTAL,
  type AnalysisAnswer,
  type MeasureDefinition,
} from '@throughline/analysis';
import {
  buildQuery,
  chartOf,
  compareValues,
  coverageText,
  describeQuery,
  exportBody,
  exportFileName,
  fileNameOf,
  freshnessText,
  mayAnalyse,
  niceCeiling,
  measureOptionText,
  reasonText,
  refusalOf,
  rulesText,
  splitList,
  tableOf,
  TOTAL,
  valueLabel,
  type Answer,
  type Measure,
  type QueryForm,
} from './page/analysis-logic';

const measure: MeasureDefinition = {
  id: 're-referrals-12-months',
  title: 'Re-referrals within 12 months',
  definition: 'Referrals in the year within 12 months of a previous referral, as a percentage of referrals.',
  source: { title: 'DfE LAIT data dictionary', url: 'https://example.invalid/lait' },
  unit: 'proportion',
  countOf: 'referrals',
  eventTypes: ['social-care.referral.received'],
  groupBy: ['period', 'age-band', 'local-authority'],
  periods: ['financial-year', 'calendar-year'],
  caveats: ['Synthetic caveat.'],
};

// The server's shapes must fit the page's (checked by the compiler: these lines fail to compile if they drift).
const pageMeasure: Measure = measure;

const form = (changes: Partial<QueryForm> = {}): QueryForm => ({
  measure: measure.id,
  entryEventTypes: [],
  entryFrom: '',
  entryTo: '',
  agencies: [],
  ageBands: [],
  sex: '',
  ethnicityGroups: '',
  senStatus: '',
  localAuthorities: '',
  groupBy: ['', ''],
  period: 'financial-year',
  ...changes,
});

const answer = (cells: AnalysisAnswer['cells'], groupBy: AnalysisAnswer['query']['groupBy']): Answer => {
  const server: AnalysisAnswer = {
    measure,
    query: analysisQuerySchema.parse({ measure: measure.id, groupBy }),
    cohortSize: 120,
    cells,
    rules: DEFAULT_DISCLOSURE_RULES,
    asOfPosition: 4321,
  };
  return server;
};

describe("the analyst's page logic", () => {
  describe('builds the query from the form', () => {
    it('as the API reads it, with only the filters that are set', () => {
      const built = buildQuery(
        form({
          entryEventTypes: ['social-care.referral.received'],
          entryFrom: '2023-04-01',
          entryTo: '2024-03-31',
          agencies: ['social-care'],
          ageBands: ['5-9', '10-15'],
          sex: ' F, M ,F',
          localAuthorities: '991, 992',
          groupBy: ['period', 'age-band'],
        }),
        pageMeasure,
      );
      expect(built).toEqual({
        ok: true,
        query: {
          measure: measure.id,
          cohort: {
            entry: {
              eventTypes: ['social-care.referral.received'],
              from: '2023-04-01',
              to: '2024-03-31',
              agencies: ['social-care'],
            },
            ageBands: ['5-9', '10-15'],
            sex: ['F', 'M'],
            localAuthorities: ['991', '992'],
          },
          groupBy: ['period', 'age-band'],
          period: 'financial-year',
        },
      });
      if (!built.ok) throw new Error('unreachable');
      // The server's own schema accepts it as it is (strict: no field it does not know).
      expect(analysisQuerySchema.parse(built.query)).toEqual(built.query);
      const { format, ...query } = exportBody(built.query, 'parquet');
      expect(format).toBe('parquet');
      expect(query).toEqual(built.query);
    });

    it('an empty cohort is every child, and no grouping is allowed', () => {
      const built = buildQuery(form(), pageMeasure);
      expect(built).toEqual({
        ok: true,
        query: { measure: measure.id, cohort: {}, groupBy: [], period: 'financial-year' },
      });
    });

    it('names the field of every problem', () => {
      const built = buildQuery(
        form({
          entryFrom: '2024-02-30',
          entryTo: '2023-01-01',
          localAuthorities: '991, 99X',
          sex: 'x'.repeat(21),
          groupBy: ['sex', 'sex'],
          period: 'month',
        }),
        pageMeasure,
      );
      expect(built.ok).toBe(false);
      if (built.ok) throw new Error('unreachable');
      expect(built.issues.map((issue) => issue.field).sort()).toEqual(
        [
          'entry-from',
          'entry-event-types',
          'local-authorities',
          'sex',
          'group-by-1',
          'group-by-2',
          'group-by-2',
          'period',
        ].sort(),
      );
      expect(built.issues.find((issue) => issue.field === 'local-authorities')?.message).toMatch(
        /“99X”: .*three-digit/,
      );
      expect(built.issues.find((issue) => issue.field === 'period')?.message).toBe(
        'Re-referrals within 12 months is not given by month.',
      );
    });

    it('refuses dates the wrong way round, a second grouping without a first, and no measure', () => {
      const built = buildQuery(
        form({
          entryEventTypes: ['social-care.referral.received'],
          entryFrom: '2024-04-01',
          entryTo: '2024-03-31',
          groupBy: ['', 'period'],
        }),
        pageMeasure,
      );
      expect(built.ok ? [] : built.issues.map((issue) => issue.field)).toEqual(['entry-to', 'group-by-1']);
      const none = buildQuery(form({ measure: '' }), undefined);
      expect(none.ok ? [] : none.issues).toEqual([{ field: 'measure', message: 'Choose a measure.' }]);
    });

    it('splits lists on commas only (an ethnicity group may have spaces)', () => {
      expect(splitList(' White British , Mixed / multiple,,White British')).toEqual([
        'White British',
        'Mixed / multiple',
      ]);
      expect(splitList('  ')).toEqual([]);
    });
  });

  describe('shows the answer', () => {
    const cells: AnalysisAnswer['cells'] = [
      { key: { 'age-band': '10-15' }, count: 40, numerator: 10, value: 24.4, suppressed: false },
      {
        key: { 'age-band': 'under-1' },
        count: null,
        numerator: null,
        value: null,
        suppressed: true,
        reason: 'below-threshold',
      },
      {
        key: { 'age-band': '5-9' },
        count: null,
        numerator: null,
        value: null,
        suppressed: true,
        reason: 'secondary',
      },
      { key: { 'age-band': '1-4' }, count: 0, numerator: 0, value: null, suppressed: false },
      { key: { 'age-band': 'total' }, count: 70, numerator: 15, value: 21.7, suppressed: false },
    ];

    it('reads margins by the key value disclosure control gives them', () => {
      expect(TOTAL).toBe(MARGIN_TOTAL);
    });

    it('as a table: cells in their order, totals last, suppressed figures as c with the reason in words', () => {
      const table = tableOf(answer(cells, ['age-band']));
      expect(table.columns.map((column) => column.label)).toEqual([
        'Age band',
        'Referrals',
        'Meeting the condition',
        'Per cent (%)',
        'Disclosure control',
      ]);
      expect(table.rows.map((row) => [row.heading[0], ...row.values.map((v) => v.text), row.note])).toEqual([
        ['Under 1', 'c', 'c', 'c', 'Suppressed: fewer than 10'],
        ['1 to 4', '0', '0', '–', ''],
        [
          '5 to 9',
          'c',
          'c',
          'c',
          'Suppressed: secondary suppression: it would reveal another suppressed cell',
        ],
        ['10 to 15', '40', '10', '24.4', ''],
        ['Total', '70', '15', '21.7', ''],
      ]);
      expect(table.rows.map((row) => row.total)).toEqual([false, false, false, false, true]);
      expect(table.suppressedCells).toBe(2);
      expect(table.caption).toBe(
        'Re-referrals within 12 months by age band, financial year (1 April to 31 March). c = suppressed to protect confidentiality.',
      );
    });

    it('as bars: no bar for a suppressed cell but a gap marked c, totals left to the table', () => {
      const chart = chartOf(answer(cells, ['age-band']));
      expect(chart.xOrder).toEqual(['Under 1', '1 to 4', '5 to 9', '10 to 15']);
      expect(chart.data.map((datum) => [datum.x, datum.y, datum.suppressed, datum.label])).toEqual([
        ['Under 1', null, true, 'c'],
        ['1 to 4', null, false, '–'],
        ['5 to 9', null, true, 'c'],
        ['10 to 15', 24.4, false, '24.4'],
      ]);
      expect(chart.data[0].title).toBe('Under 1: suppressed (fewer than 10)');
      expect(chart.data[3].title).toBe('10 to 15: 24.4%');
      expect(chart.yMax).toBe(100);
      expect(chart.yLabel).toBe('Per cent (%)');
      expect(chart.summary).toBe(
        'Re-referrals within 12 months: 4 bars, 2 suppressed (marked c, no bar). The table that follows gives every figure.',
      );
    });

    it('tops the y axis at a round number', () => {
      expect([31.2, 480, 7, 0, 1000].map(niceCeiling)).toEqual([35, 500, 7, 1, 1000]);
    });

    it('in panels for a second grouping, and as one bar without grouping', () => {
      const two = chartOf(
        answer(
          [
            {
              key: { period: '2024-25', 'local-authority': '992' },
              count: 20,
              numerator: 5,
              value: 25,
              suppressed: false,
            },
            {
              key: { period: '2023-24', 'local-authority': '991' },
              count: 30,
              numerator: 15,
              value: 50,
              suppressed: false,
            },
            {
              key: { period: 'total', 'local-authority': '991' },
              count: 30,
              numerator: 15,
              value: 50,
              suppressed: false,
            },
          ],
          ['period', 'local-authority'],
        ),
      );
      expect(two.xOrder).toEqual(['2023-24', '2024-25']);
      expect(two.facetOrder).toEqual(['991', '992']);
      expect(two.facetLabel).toBe('Local authority');
      const one = chartOf(answer([{ key: {}, count: 120, numerator: 30, value: 25, suppressed: false }], []));
      expect(one.data).toEqual([
        { x: measure.title, y: 25, suppressed: false, label: '25.0', title: `${measure.title}: 25.0%` },
      ]);
    });

    it('orders and names values as analysts read them', () => {
      expect(
        ['2', '-1', '10', '0', 'total', '-4'].sort((a, b) => compareValues('relative-term', a, b)),
      ).toEqual(['-4', '-1', '0', '2', '10', 'total']);
      expect(valueLabel('relative-term', '-2')).toBe('−2 terms');
      expect(valueLabel('relative-term', '1')).toBe('+1 term');
      expect(valueLabel('relative-term', '0')).toBe('Term of the event (0)');
      expect(valueLabel('age-band', '18-plus')).toBe('18 and over');
      expect(valueLabel('agency', 'social-care')).toBe('Social care');
      expect(['2023-24', '2021-22', '2022-23'].sort((a, b) => compareValues('period', a, b))).toEqual([
        '2021-22',
        '2022-23',
        '2023-24',
      ]);
    });

    it('says the rules, the reasons and the freshness in words', () => {
      expect(rulesText(DEFAULT_DISCLOSURE_RULES).join(' ')).toMatch(
        /below 10 are suppressed.*nearest 5.*exact counts.*fewer than 20 children/,
      );
      expect(reasonText('numerator-below-threshold', DEFAULT_DISCLOSURE_RULES)).toBe(
        'fewer than 10 meet the condition',
      );
      expect(reasonText('complement-below-threshold', DEFAULT_DISCLOSURE_RULES)).toBe(
        'fewer than 10 do not meet the condition',
      );
      expect(freshnessText(12345, new Date('2026-12-02T16:05:09Z'))).toBe(
        'The analysis model had read the event store up to position 12,345 when this was answered (2026-12-02 16:05 UTC); events recorded since are not in it yet.',
      );
    });

    it('describes what was asked, for the screen and for print', () => {
      expect(
        describeQuery(
          {
            measure: measure.id,
            cohort: {
              entry: {
                eventTypes: ['social-care.referral.received'],
                from: '2023-04-01',
                agencies: ['social-care'],
              },
              ageBands: ['under-1'],
              localAuthorities: ['991'],
            },
            groupBy: ['period', 'age-band'],
            period: 'financial-year',
          },
          measure,
        ),
      ).toEqual([
        ['Measure', 'Re-referrals within 12 months'],
        [
          'Cohort',
          'Children with social-care.referral.received from 2023-04-01 (Social care); aged Under 1; local authority 991',
        ],
        ['Grouped by', 'Period, then Age band'],
        ['Period', 'Financial year (1 April to 31 March)'],
      ]);
    });
  });

  describe('refusals and downloads', () => {
    it('names the rule that refused', () => {
      expect(
        refusalOf(400, {
          error: 'VALIDATION',
          message: 'the cohort is too small',
          issues: [{ path: 'cohort', rule: 'minimum-cohort', message: 'fewer than 20 children' }],
        }),
      ).toEqual({
        kind: 'minimum-cohort',
        title: 'The cohort is too small to answer',
        message: 'the cohort is too small',
        details: ['cohort: fewer than 20 children'],
      });
      expect(
        refusalOf(400, {
          message: 'refused',
          issues: [{ path: 'cohort', rule: 'differencing', message: 'too close' }],
        }).kind,
      ).toBe('differencing');
      // The API's own differencing message says "fewer than 10 children" too: the rule named decides.
      const differencing = {
        error: 'VALIDATION',
        message:
          "this cohort differs from one of your earlier queries' cohorts by fewer than 10 children, so comparing the two answers would disclose those children",
        issues: [{ path: 'cohort', rule: 'differencing', message: 'widen or narrow it further' }],
      };
      expect(refusalOf(400, differencing).title).toBe('Too close to an earlier query');
      expect(refusalOf(400, { message: differencing.message }).kind).toBe('differencing');
      expect(
        refusalOf(400, {
          message: 'x',
          issues: [{ path: 'cohort', rule: 'unprotectable', message: 'group by fewer' }],
        }).kind,
      ).toBe('unprotectable');
      expect(
        refusalOf(403, { error: 'FORBIDDEN', message: 'no agreement in force covers education' }).kind,
      ).toBe('agreement');
      expect(refusalOf(403, { error: 'FORBIDDEN', message: 'role social-worker may not' }).kind).toBe(
        'not-allowed',
      );
      expect(refusalOf(401, undefined).kind).toBe('sign-in');
      expect(refusalOf(400, { message: 'body.groupBy: too many' }).title).toBe('The query was refused');
      expect(refusalOf(500, undefined)).toEqual({
        kind: 'failed',
        title: 'The query failed (500)',
        message: 'The service answered 500.',
        details: [],
      });
    });

    it("saves a download under the server's name, made safe, else its own", () => {
      const today = new Date('2026-12-02T10:00:00Z');
      expect(fileNameOf('attachment; filename="re-referrals.csv"', 'x')).toBe('re-referrals.csv');
      expect(fileNameOf("attachment; filename*=UTF-8''a%20b.parquet", 'x')).toBe('a b.parquet');
      expect(fileNameOf('attachment; filename="../../etc/passwd"', 'x')).toBe('-..-etc-passwd');
      expect(fileNameOf(null, exportFileName('Re referrals!', 'csv', today))).toBe(
        'throughline-re-referrals--2026-12-02.csv',
      );
    });

    it('says whether the agreements in force cover a measure, as the catalogue tells', () => {
      expect(coverageText(pageMeasure)).toBeUndefined();
      expect(coverageText({ ...pageMeasure, coverage: { covered: true, agreements: ['dsa-sc@1'] } })).toBe(
        'Shared under dsa-sc@1.',
      );
      const refused: Measure = {
        ...pageMeasure,
        coverage: { covered: false, reason: 'social-care events: no agreement shares them with you' },
      };
      expect(coverageText(refused)).toBe(
        'Not answered for you: social-care events: no agreement shares them with you.',
      );
      expect(measureOptionText(refused)).toBe('Re-referrals within 12 months (no agreement covers it)');
    });

    it('knows whether the signed-in person may analyse at all', () => {
      const person = {
        userId: 'u',
        roles: ['analyst'],
        purposes: [] as { id: string; label: string; permissions: string[] }[],
      };
      expect(mayAnalyse(person)).toBe(false);
      expect(
        mayAnalyse({
          ...person,
          purposes: [{ id: 'analysis', label: 'Analysis', permissions: ['analysis:query'] }],
        }),
      ).toBe(true);
    });
  });
});
