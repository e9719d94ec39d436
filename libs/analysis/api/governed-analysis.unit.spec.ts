import { readFileSync } from 'node:fs';
import { parseAccessPolicy, type Requester } from '@throughline/access';
import { ThroughlineError, ValidationError } from '@throughline/platform';
import { DEMO_POLICY_FILE } from '@throughline/testing';
import { checkDifferencing } from '../disclosure/differencing';
import {
  DEFAULT_DISCLOSURE_RULES,
  type AnalysisQuery,
  type AnalysisReads,
  type MeasureDefinition,
  type RawResult,
} from '../types';
import { answerShape, GovernedAnalysis, readingOf } from './governed-analysis';
import { cohortFingerprint, type ReleasedAs } from './query-log';

/**
 * The analysis API's rules over a fake read side and an in-memory query log: which measures the
 * demo policy's agreements let the demo analyst ask, the controlled answer, the access note (the
 * query's definition and the answer's shape, never a value), and every refusal naming its rule.
 */

const POLICY = parseAccessPolicy(JSON.parse(readFileSync(DEMO_POLICY_FILE, 'utf8')) as unknown);
/** Every agreement of the demo policy is in force on this day. */
const IN_FORCE = new Date('2026-06-01T12:00:00Z');

function analyst(): Requester {
  return {
    principal: {
      kind: 'person',
      userId: 'demo-analyst',
      organisation: { code: '991', type: 'local-authority' },
      roles: ['analyst'],
    },
    purpose: 'analysis',
    roles: ['analyst'],
    policy: { version: 1, document: POLICY },
    note: {},
  };
}

const reReferrals: MeasureDefinition = {
  id: 're-referrals',
  title: 'Re-referrals within 12 months',
  definition: 'Synthetic: referrals within 12 months of a previous one, as a percentage of referrals.',
  unit: 'proportion',
  countOf: 'referrals',
  eventTypes: ['social-care.referral.received'],
  groupBy: ['period', 'age-band', 'ethnicity-group'],
  periods: ['financial-year'],
  caveats: [],
};
const camhsReferrals: MeasureDefinition = {
  ...reReferrals,
  id: 'camhs-referrals',
  title: 'CAMHS referrals',
  unit: 'count',
  countOf: 'children',
  eventTypes: ['health.camhs.referred'],
};

class FakeReads implements AnalysisReads {
  runs: AnalysisQuery[] = [];
  constructor(public result: (query: AnalysisQuery) => RawResult) {}
  catalogue() {
    return [reReferrals, camhsReferrals];
  }
  run(query: AnalysisQuery): Promise<RawResult> {
    this.runs.push(query);
    return Promise.resolve(this.result(query));
  }
  position() {
    return Promise.resolve(4242);
  }
}

/** The query log's rule, in memory. */
class MemoryLog {
  readonly released: {
    analyst: string;
    measure: string;
    fingerprint: string;
    size: number;
    as: ReleasedAs;
  }[] = [];
  admit(analyst: string, query: AnalysisQuery, size: number, threshold: number, as: ReleasedAs) {
    const fingerprint = cohortFingerprint(query.cohort);
    checkDifferencing(
      this.released
        .filter((r) => r.analyst === analyst && r.measure === query.measure && r.fingerprint !== fingerprint)
        .map((r) => r.size),
      size,
      threshold,
    );
    this.released.push({ analyst, measure: query.measure, fingerprint, size, as });
    return Promise.resolve();
  }
}

const rawOf = (cohortSize: number): RawResult => ({
  measure: 're-referrals',
  unit: 'proportion',
  groupBy: ['age-band'],
  period: 'financial-year',
  cohortSize,
  additive: true,
  cells: [
    { key: { 'age-band': '5-9' }, count: 120, numerator: 31 },
    { key: { 'age-band': '10-15' }, count: 4, numerator: 1 },
    { key: { 'age-band': '16-17' }, count: 96, numerator: 22 },
  ],
});

const query = (overrides: Partial<AnalysisQuery> = {}): AnalysisQuery => ({
  measure: 're-referrals',
  cohort: {},
  groupBy: ['age-band'],
  period: 'financial-year',
  ...overrides,
});

function setUp(cohortSize = 220) {
  const reads = new FakeReads(() => rawOf(cohortSize));
  const log = new MemoryLog();
  const analysis = new GovernedAnalysis(reads, log, DEFAULT_DISCLOSURE_RULES, () => IN_FORCE);
  return { reads, log, analysis };
}

async function refusal(promise: Promise<unknown>): Promise<ThroughlineError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ThroughlineError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}

describe('the catalogue', () => {
  it('lists every measure with whether the agreements in force let this analyst ask it', () => {
    const { analysis } = setUp();
    const requester = analyst();
    const catalogue = analysis.catalogue(requester);
    expect(catalogue.rules).toEqual(DEFAULT_DISCLOSURE_RULES);
    expect(catalogue.measures.map((m) => [m.id, m.coverage])).toEqual([
      ['re-referrals', { covered: true, agreements: ['vale-statistics-social-care@1'] }],
      [
        'camhs-referrals',
        {
          covered: false,
          reason:
            'health mental-health-services: no agreement in force shares it with role analyst, purpose analysis',
        },
      ],
    ]);
    expect(requester.note).toEqual({ returned: 2 });
  });
});

describe('a query', () => {
  it('answers under disclosure control, and notes the definition and the shape, never a value', async () => {
    const { analysis, log } = setUp();
    const requester = analyst();
    const answer = await analysis.answer(query(), requester);
    expect(answer).toMatchObject({
      measure: reReferrals,
      cohortSize: 220,
      rules: DEFAULT_DISCLOSURE_RULES,
      asOfPosition: 4242,
    });
    expect(answer.cells.find((cell) => cell.key['age-band'] === '10-15')).toMatchObject({
      count: null,
      value: null,
      suppressed: true,
      reason: 'below-threshold',
    });
    expect(answer.cells.find((cell) => cell.key['age-band'] === '5-9')).toMatchObject({
      count: 120,
      suppressed: false,
    });
    expect(log.released).toEqual([
      {
        analyst: 'demo-analyst',
        measure: 're-referrals',
        fingerprint: cohortFingerprint({}),
        size: 220,
        as: 'json',
      },
    ]);
    expect(requester.note).toEqual({
      agreements: ['vale-statistics-social-care@1'],
      returned: answer.cells.length,
      extra: {
        query: { measure: 're-referrals', cohort: {}, groupBy: ['age-band'], period: 'financial-year' },
        releasedAs: 'json',
        result: answerShape(answer.cells, DEFAULT_DISCLOSURE_RULES, 'json'),
      },
    });
    const shape = (requester.note.extra as { result: Record<string, unknown> }).result;
    expect(shape).toMatchObject({ cells: answer.cells.length, suppressed: expect.any(Number) });
    expect(JSON.stringify(requester.note)).not.toContain('"count"');
  });

  it('refuses an unknown measure, a grouping or period it does not offer, an unknown entry type: 400 naming each', async () => {
    const { analysis, reads } = setUp();
    const unknown = await refusal(analysis.answer(query({ measure: 'nope' }), analyst()));
    expect(unknown).toBeInstanceOf(ValidationError);
    expect((unknown as ValidationError).issues).toEqual([
      expect.objectContaining({ path: 'measure', rule: 'known-measure' }),
    ]);
    const offered = (await refusal(
      analysis.answer(
        query({
          groupBy: ['sex'],
          period: 'month',
          cohort: { entry: { eventTypes: ['social-care.no-such.thing'] } },
        }),
        analyst(),
      ),
    )) as ValidationError;
    expect(offered.issues.map((issue) => [issue.path, issue.rule])).toEqual([
      ['cohort.entry.eventTypes.0', 'known-event-type'],
      ['groupBy.0', 'offered-by-measure'],
      ['period', 'offered-by-measure'],
    ]);
    expect(reads.runs).toEqual([]);
  });

  it('refuses a measure no agreement covers (403 naming agency and category), before running it', async () => {
    const { analysis, reads } = setUp();
    const requester = analyst();
    const error = await refusal(analysis.answer(query({ measure: 'camhs-referrals' }), requester));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toBe(
      'not allowed (rule agreement-covers-analysis): health mental-health-services: no agreement in force shares ' +
        'it with role analyst, purpose analysis',
    );
    expect(reads.runs).toEqual([]);
    // The refusal's access record still says what was asked.
    expect(requester.note.extra).toMatchObject({ query: { measure: 'camhs-referrals' } });
  });

  it('reads cohort entry types from the agencies asked only, and ethnicity as a special category', () => {
    const reading = readingOf(
      reReferrals,
      query({
        groupBy: ['ethnicity-group'],
        cohort: { entry: { eventTypes: ['outcome.observation.recorded'], agencies: ['social-care'] } },
      }),
    );
    expect(reading).toEqual({
      eventTypes: ['social-care.referral.received', 'outcome.observation.recorded'],
      agenciesOf: { 'outcome.observation.recorded': ['social-care'] },
      specialCategories: ['ethnicity'],
    });
  });

  it('refuses a cohort under the minimum, and records nothing', async () => {
    const { analysis, log } = setUp(19);
    const error = (await refusal(analysis.answer(query(), analyst()))) as ValidationError;
    expect(error.issues).toEqual([expect.objectContaining({ path: 'cohort', rule: 'minimum-cohort' })]);
    expect(log.released).toEqual([]);
  });

  it('refuses a cohort differing from an earlier one by fewer than the threshold; the same cohort again is answered', async () => {
    let size = 220;
    const reads = new FakeReads(() => rawOf(size));
    const analysis = new GovernedAnalysis(reads, new MemoryLog(), DEFAULT_DISCLOSURE_RULES, () => IN_FORCE);
    await analysis.answer(query(), analyst());
    size = 214;
    const narrower = query({ cohort: { ageBands: ['5-9', '10-15', '16-17'] } });
    const error = (await refusal(analysis.answer(narrower, analyst()))) as ValidationError;
    expect(error.issues).toEqual([expect.objectContaining({ path: 'cohort', rule: 'differencing' })]);
    expect(error.message).not.toMatch(/214|220/);
    size = 223;
    await expect(analysis.answer(query(), analyst())).resolves.toMatchObject({ cohortSize: 225 });
  });

  it('compares sizes within one measure only (a size is the measure population in the cohort)', async () => {
    let size = 220;
    const reads = new FakeReads(() => rawOf(size));
    const log = new MemoryLog();
    const analysis = new GovernedAnalysis(reads, log, DEFAULT_DISCLOSURE_RULES, () => IN_FORCE);
    await analysis.answer(query(), analyst());
    size = 214;
    const other = query({ measure: 'other-referrals', cohort: { ageBands: ['5-9', '10-15', '16-17'] } });
    reads.catalogue = () => [reReferrals, { ...reReferrals, id: 'other-referrals' }];
    await expect(analysis.answer(other, analyst())).resolves.toMatchObject({ cohortSize: 215 });
    // Another analyst's earlier answers are not theirs to subtract.
    const colleague = analyst();
    Object.assign(colleague, { principal: { ...colleague.principal, userId: 'another-analyst' } });
    await expect(analysis.answer(query({ cohort: { sex: ['female'] } }), colleague)).resolves.toBeDefined();
    expect(log.released.map((r) => [r.analyst, r.measure, r.size])).toEqual([
      ['demo-analyst', 're-referrals', 220],
      ['demo-analyst', 'other-referrals', 214],
      ['another-analyst', 're-referrals', 214],
    ]);
  });
});

describe('an export', () => {
  it('is the same controlled answer as a file, recorded as released in that format', async () => {
    const { analysis, log } = setUp();
    const requester = analyst();
    const file = await analysis.export(query(), 'csv', requester);
    expect(file.name).toBe('re_referrals_by_age_band.csv');
    expect(file.contentType).toMatch(/^text\/csv/);
    const text = Buffer.from(file.bytes).toString('utf8');
    expect(text).not.toMatch(/\b4\b/);
    expect(log.released.map((release) => release.as)).toEqual(['csv']);
    expect(requester.note.extra).toMatchObject({ releasedAs: 'csv', result: { releasedAs: 'csv' } });
  });
});

describe('the cohort fingerprint', () => {
  it('is the same however the lists are ordered, and differs when the definition does', () => {
    expect(cohortFingerprint({ ageBands: ['5-9', '1-4'], sex: ['female'] })).toBe(
      cohortFingerprint({ sex: ['female'], ageBands: ['1-4', '5-9'] }),
    );
    expect(cohortFingerprint({ ageBands: ['5-9'] })).not.toBe(cohortFingerprint({ ageBands: ['1-4'] }));
  });
});
