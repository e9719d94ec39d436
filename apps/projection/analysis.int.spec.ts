import type { AgencyEvent } from '@throughline/contracts';
import { buildEvent, freshRecordId, waitFor } from '@throughline/testing';
import { projectionUnderTest } from './projection.test-helper';

/**
 * The analysts' API over the running projection (issue 15): real tokens from the local OpenID
 * provider, the demo policy's statistics agreements, the pseudonymised model built from the store
 * by the app itself. The analyst gets the catalogue and controlled answers and files; nobody else
 * does, the analyst gets nothing identifiable, refusals name their rule, and every call leaves an
 * access record with the query's definition and the shape of its answer (never a cell's value).
 */

const CARE = { agency: 'social-care' as const, system: 'demo-case-system', organisation: '991' };

function child(dateOfBirth: string) {
  return {
    recordId: freshRecordId('case'),
    laChildId: `C${freshRecordId('la').replace(/\W/g, '').slice(-12)}`,
    laCode: '991',
    dateOfBirth,
  };
}
const referral = (day: string, subject: ReturnType<typeof child>) =>
  buildEvent('social-care.referral.received', {
    occurredAt: `${day}T10:00:00Z`,
    source: CARE,
    subject,
    data: { referralDate: day, referralSource: '2A', noFurtherAction: false },
  });

// 35 children aged 10-15 and 5 aged 16-17 at referral, all referred in FY 2023-24; 12 of the
// younger ones again within 12 months. A cohort of the younger alone is 35: five fewer than all.
const younger = Array.from({ length: 35 }, () => child('2012-05-10'));
const older = Array.from({ length: 5 }, () => child('2006-09-01'));
const EVENTS: AgencyEvent[] = [
  ...[...younger, ...older].map((subject) => referral('2023-05-15', subject)),
  ...younger.slice(0, 12).map((subject) => referral('2023-11-20', subject)),
];

const world = projectionUnderTest({ name: 'analysis-api', events: EVENTS });

const MEASURE = 're-referral-12-months';
type Body = Record<string, unknown> & { issues?: { path: string; rule: string }[]; message?: string };

async function call(
  user: string,
  purpose: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Body; headers: Headers; bytes: Buffer }> {
  const response = await fetch(`${world.projection.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: await world.access.headers(user, purpose, { 'content-type': 'application/json' }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const json = /json/.test(response.headers.get('content-type') ?? '')
    ? (JSON.parse(bytes.toString('utf8')) as Body)
    : {};
  return { status: response.status, body: json, headers: response.headers, bytes };
}

/** The analysis model has read everything in the store (it runs on a subscription of its own). */
function modelCaughtUp(): Promise<void> {
  return waitFor(
    async () => {
      const { rows } = await world.pool.query<{ behind: boolean }>(
        `SELECT coalesce((SELECT max(position) FROM analysis_checkpoints), 0)
                  < (SELECT coalesce(max(position), 0) FROM events) AS behind`,
      );
      return !rows[0].behind;
    },
    { timeoutMs: 30_000, intervalMs: 100, message: 'the analysis model to catch up with the store' },
  );
}

beforeAll(async () => {
  await modelCaughtUp();
}, 40_000);

describe('GET /v1/analysis/measures', () => {
  it('gives the analyst the catalogue, each measure covered by the statistics agreements', async () => {
    const { status, body } = await call('demo-analyst', 'analysis', '/v1/analysis/measures');
    expect(status).toBe(200);
    const measures = body.measures as { id: string; coverage: { covered: boolean; agreements?: string[] } }[];
    expect(measures.find((measure) => measure.id === MEASURE)).toMatchObject({
      coverage: { covered: true, agreements: ['vale-statistics-social-care@1'] },
    });
    expect(body.rules).toEqual({ threshold: 10, roundingBase: 5, minimumCohort: 20 });
    expect(await world.log.next()).toMatchObject({
      user: 'demo-analyst',
      action: 'analysis-catalogue',
      purpose: 'analysis',
      grantedRoles: 'analyst',
      outcome: 'ok',
      childKey: null,
      returned: measures.length,
    });
  });

  it('refuses a social worker, and the analyst for any other purpose', async () => {
    const worker = await call('demo-social-worker', 'safeguarding', '/v1/analysis/measures');
    expect(worker.status).toBe(403);
    expect(worker.body.message).toMatch(/may not analysis:query for purpose safeguarding/);
    const otherPurpose = await call('demo-analyst', 'direct-care', '/v1/analysis/measures');
    expect(otherPurpose.status).toBe(403);
    expect(await world.log.sinceLastRead()).toEqual([
      expect.objectContaining({
        user: 'demo-social-worker',
        action: 'analysis-catalogue',
        outcome: 'FORBIDDEN',
      }),
      expect.objectContaining({ user: 'demo-analyst', purpose: 'direct-care', outcome: 'FORBIDDEN' }),
    ]);
  });
});

describe('POST /v1/analysis/queries', () => {
  it('answers the analyst under disclosure control, and records the definition and shape, not the values', async () => {
    const query = { measure: MEASURE, cohort: {}, groupBy: ['age-band'], period: 'financial-year' };
    const { status, body } = await call('demo-analyst', 'analysis', '/v1/analysis/queries', query);
    expect(status).toBe(200);
    expect(body).toMatchObject({ query, cohortSize: 40, rules: { threshold: 10, roundingBase: 5 } });
    const cells = body.cells as {
      key: Record<string, string>;
      count: number | null;
      suppressed: boolean;
      reason?: string;
    }[];
    // Five referrals of 16-17 year olds: under the threshold, suppressed with the reason.
    expect(cells.find((cell) => cell.key['age-band'] === '16-17')).toMatchObject({
      count: null,
      suppressed: true,
      reason: 'below-threshold',
    });
    for (const cell of cells) if (cell.count !== null) expect(cell.count % 5).toBe(0);
    const record = await world.log.next();
    expect(record).toMatchObject({
      user: 'demo-analyst',
      action: 'analysis-query',
      outcome: 'ok',
      childKey: null,
      agreements: ['vale-statistics-social-care@1'],
      extra: {
        query,
        releasedAs: 'json',
        result: {
          cells: cells.length,
          suppressed: cells.filter((cell) => cell.suppressed).length,
          rules: { threshold: 10, roundingBase: 5, minimumCohort: 20 },
          releasedAs: 'json',
        },
      },
    });
    // No cell's count or value is in the log.
    expect(JSON.stringify(record.extra)).not.toMatch(/"(count|value|numerator)"/);
  });

  it('refuses a cohort differing from one answered before by fewer than the threshold (differencing)', async () => {
    const narrower = { measure: MEASURE, cohort: { ageBands: ['10-15'] } };
    const { status, body } = await call('demo-analyst', 'analysis', '/v1/analysis/queries', narrower);
    expect(status).toBe(400);
    expect(body.issues).toEqual([expect.objectContaining({ path: 'cohort', rule: 'differencing' })]);
    expect(body.message).not.toMatch(/35|40/);
    expect(await world.log.next()).toMatchObject({
      action: 'analysis-query',
      outcome: 'VALIDATION',
      extra: { query: { measure: MEASURE, cohort: { ageBands: ['10-15'] } } },
    });
  });

  it('refuses a cohort under the minimum', async () => {
    const tiny = { measure: MEASURE, cohort: { ageBands: ['16-17'] } };
    const { status, body } = await call('demo-analyst', 'analysis', '/v1/analysis/queries', tiny);
    expect(status).toBe(400);
    expect(body.issues).toEqual([expect.objectContaining({ path: 'cohort', rule: 'minimum-cohort' })]);
    await world.log.next();
  });

  it('refuses bad bodies with 400 naming the field and rule, an unknown measure included', async () => {
    const cases: [unknown, string][] = [
      [{ measure: 5 }, 'measure'],
      [{ measure: MEASURE, groupBy: ['shoe-size'] }, 'groupBy.0'],
      [{ measure: MEASURE, cohort: { entry: { eventTypes: [] } } }, 'cohort.entry.eventTypes'],
      [{ measure: MEASURE, childKey: 'anything' }, 'childKey'],
      [{ measure: 'no-such-measure' }, 'measure'],
      [{ measure: MEASURE, groupBy: ['perspective'] }, 'groupBy.0'],
      [{ measure: MEASURE, period: 'fortnight' }, 'period'],
    ];
    for (const [body, path] of cases) {
      const answer = await call('demo-analyst', 'analysis', '/v1/analysis/queries', body);
      expect([JSON.stringify(body), answer.status]).toEqual([JSON.stringify(body), 400]);
      expect(answer.body.issues?.map((issue) => issue.path)).toContain(path);
      expect(answer.body.issues?.every((issue) => typeof issue.rule === 'string')).toBe(true);
    }
    const unknown = await call('demo-analyst', 'analysis', '/v1/analysis/queries', {
      measure: 'no-such-measure',
    });
    expect(unknown.body.issues).toEqual([
      expect.objectContaining({ path: 'measure', rule: 'known-measure' }),
    ]);
    await world.log.skip();
  });

  it('refuses a social worker and another purpose', async () => {
    const query = { measure: MEASURE };
    expect((await call('demo-social-worker', 'direct-care', '/v1/analysis/queries', query)).status).toBe(403);
    expect((await call('demo-analyst', 'safeguarding', '/v1/analysis/queries', query)).status).toBe(403);
    expect((await world.log.sinceLastRead()).map((record) => [record.user, record.outcome])).toEqual([
      ['demo-social-worker', 'FORBIDDEN'],
      ['demo-analyst', 'FORBIDDEN'],
    ]);
  });
});

describe('POST /v1/analysis/exports', () => {
  it('downloads the same controlled answer as CSV or Parquet, recorded as an export', async () => {
    const query = { measure: MEASURE, cohort: {}, groupBy: ['age-band'], period: 'financial-year' };
    const csv = await call('demo-analyst', 'analysis', '/v1/analysis/exports', { ...query, format: 'csv' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe(
      'attachment; filename="re_referral_12_months_by_age_band.csv"',
    );
    expect(csv.headers.get('cache-control')).toBe('no-store');
    expect(csv.bytes.toString('utf8').split('\n')[0]).toMatch(/time_period/);
    const parquet = await call('demo-analyst', 'analysis', '/v1/analysis/exports', {
      ...query,
      format: 'parquet',
    });
    expect(parquet.status).toBe(200);
    expect(parquet.bytes.subarray(0, 4).toString('latin1')).toBe('PAR1');
    expect(
      (await world.log.sinceLastRead()).map((record) => [record.action, record.outcome, record.extra]),
    ).toEqual([
      ['analysis-export', 'ok', expect.objectContaining({ releasedAs: 'csv' })],
      ['analysis-export', 'ok', expect.objectContaining({ releasedAs: 'parquet' })],
    ]);
  });

  it('applies the same rules: differencing and a format it knows', async () => {
    const narrower = { measure: MEASURE, cohort: { ageBands: ['10-15'] }, format: 'csv' };
    const refused = await call('demo-analyst', 'analysis', '/v1/analysis/exports', narrower);
    expect(refused.status).toBe(400);
    expect(refused.body.issues).toEqual([expect.objectContaining({ rule: 'differencing' })]);
    const xlsx = await call('demo-analyst', 'analysis', '/v1/analysis/exports', {
      measure: MEASURE,
      format: 'xlsx',
    });
    expect(xlsx.status).toBe(400);
    expect(xlsx.body.issues).toEqual([expect.objectContaining({ path: 'format' })]);
    await world.log.skip();
  });
});

describe('identifiable routes', () => {
  it('refuse the analyst, whatever the purpose', async () => {
    for (const purpose of ['analysis', 'direct-care', 'safeguarding']) {
      const lookup = await call('demo-analyst', purpose, '/v1/children/lookup', {
        identifier: { type: 'nhs-number', value: '943 476 5919' },
      });
      expect([purpose, lookup.status]).toEqual([purpose, 403]);
      const timeline = await call('demo-analyst', purpose, '/v1/children/c-0000000000000000/timeline');
      expect([purpose, timeline.status]).toEqual([purpose, 403]);
    }
    const records = await world.log.sinceLastRead();
    expect(records).toHaveLength(6);
    expect(records.every((record) => record.outcome === 'FORBIDDEN' && record.user === 'demo-analyst')).toBe(
      true,
    );
  });
});
