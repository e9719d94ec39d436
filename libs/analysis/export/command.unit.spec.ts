import { describe, expect, it } from '@jest/globals';
import { smallAnswer } from './answer.test-helper';
import {
  analysisExportCommand,
  AnalysisExportError,
  AnalysisExportUsageError,
  describeRefusal,
  fetchAnswer,
  parseAnalysisExportArgs,
} from './command';

const usage = (argv: string[]) => parseAnalysisExportArgs(argv).catch((error: unknown) => error);

describe('analysis:export arguments', () => {
  it('make a query with its defaults (no cohort filter, not grouped, financial year, here)', async () => {
    await expect(
      parseAnalysisExportArgs(['--measure', 'cp-plan-2-years', '--format', 'parquet']),
    ).resolves.toEqual({
      query: { measure: 'cp-plan-2-years', cohort: {}, groupBy: [], period: 'financial-year' },
      format: 'parquet',
      out: process.cwd(),
      url: undefined,
    });
  });

  it('take a grouping, a period, an output directory and the projection address', async () => {
    const options = await parseAnalysisExportArgs([
      '--measure=re-referrals-12-months',
      '--format=csv',
      '--group-by',
      'period, age-band',
      '--period',
      'academic-year',
      '--out',
      '/tmp/exports',
      '--url',
      'http://127.0.0.1:3999/',
    ]);
    expect(options).toMatchObject({
      query: { groupBy: ['period', 'age-band'], period: 'academic-year' },
      out: '/tmp/exports',
      url: 'http://127.0.0.1:3999',
    });
  });

  it.each([
    [[], /--measure is required/],
    [['--measure', 'm'], /--format must be one of csv, parquet/],
    [['--measure', 'm', '--format', 'xlsx'], /--format must be one of csv, parquet \(not "xlsx"\)/],
    [
      ['--measure', 'm', '--format', 'csv', '--group-by', 'postcode'],
      /^--group-by \(0\): Invalid option: expected one of "period"\|/,
    ],
    [
      ['--measure', 'm', '--format', 'csv', '--group-by', 'sex,age-band,period'],
      /^--group-by: Too big: expected array to have <=2 items/,
    ],
    [['--measure', 'm', '--format', 'csv', '--period', 'week'], /^--period: Invalid option/],
    [['--measure', 'm', '--format', 'csv', '--colour', 'red'], /Unknown option '--colour'/],
    [['--measure', 'm', '--format', 'csv', 'extra'], /Unexpected argument 'extra'/],
    [['--measure', 'm', '--format', 'csv', '--url', 'ftp://x'], /--url must be an http\(s\) address/],
    [['--help'], /^usage: THROUGHLINE_TOKEN=/],
  ])('refuse %j naming the option and the rule', async (argv, message) => {
    const error = await usage(argv);
    expect(error).toBeInstanceOf(AnalysisExportUsageError);
    expect((error as Error).message).toMatch(message);
  });

  it('refuse to run without the analyst token, and say how to get one', async () => {
    const error = await analysisExportCommand(['--measure', 'm', '--format', 'csv'], {
      env: {},
      stdout: process.stdout,
      fetch: () => Promise.reject(new Error('must not be called')),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnalysisExportUsageError);
    expect((error as Error).message).toMatch(
      /THROUGHLINE_TOKEN is not set[\s\S]*npm run -s token -- demo-analyst/,
    );
  });
});

describe("the projection's refusal, shown as it was said", () => {
  it('gives the status, the code, the message and every issue with its rule', () => {
    const body = JSON.stringify({
      error: 'VALIDATION',
      message: 'the cohort is too close to an earlier one',
      issues: [
        {
          path: 'cohort',
          rule: 'differencing',
          message: 'differs from an earlier cohort by fewer than 10 children',
        },
      ],
    });
    expect(describeRefusal(400, body)).toBe(
      'the projection refused the query (400 VALIDATION): the cohort is too close to an earlier one\n' +
        '  cohort: differs from an earlier cohort by fewer than 10 children [differencing]',
    );
  });

  it('adds what to do about a 401, and shows a body that is not JSON as text', () => {
    expect(
      describeRefusal(401, JSON.stringify({ error: 'UNAUTHENTICATED', message: 'token expired' })),
    ).toMatch(
      /^the projection refused the query \(401 UNAUTHENTICATED\): token expired\n {2}\(the token is missing, expired/,
    );
    expect(describeRefusal(502, '<html>Bad gateway</html>')).toBe(
      'the projection answered 502: <html>Bad gateway</html>',
    );
  });

  it('shows a top-level rule and a body of unknown shape', () => {
    expect(
      describeRefusal(
        403,
        JSON.stringify({
          error: 'FORBIDDEN',
          message: 'no agreement covers health events',
          rule: 'agreement',
        }),
      ),
    ).toBe('the projection refused the query (403 FORBIDDEN): no agreement covers health events [agreement]');
    expect(describeRefusal(418, JSON.stringify({ teapot: true }))).toBe(
      'the projection refused the query (418)\n  {"teapot":true}',
    );
  });
});

describe('asking the projection', () => {
  const query = smallAnswer.query;
  const answering =
    (status: number, body: unknown, seen: { url?: string; init?: RequestInit } = {}): typeof fetch =>
    (input, init) => {
      seen.url = String(input);
      seen.init = init;
      return Promise.resolve(
        new Response(typeof body === 'string' ? body : JSON.stringify(body), { status }),
      );
    };

  it("posts the query with the analyst's token and purpose analysis, and checks the answer", async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    const answer = await fetchAnswer(
      'http://127.0.0.1:3000',
      'a.b.c',
      query,
      answering(200, smallAnswer, seen),
    );
    expect(answer).toEqual(smallAnswer);
    expect(seen.url).toBe('http://127.0.0.1:3000/v1/analysis/queries');
    expect(seen.init).toMatchObject({
      method: 'POST',
      headers: { authorization: 'Bearer a.b.c', 'x-purpose': 'analysis', 'content-type': 'application/json' },
    });
    expect(JSON.parse(String(seen.init?.body))).toEqual(query);
  });

  it('refuses an answer that is not an analysis answer, naming the field', async () => {
    const broken = { ...smallAnswer, cells: [{ key: {}, count: 'many', value: null, suppressed: false }] };
    await expect(fetchAnswer('http://x', 't', query, answering(200, broken))).rejects.toThrow(
      /the projection's answer is not an analysis answer: cells\.0\.count: Invalid input: expected number/,
    );
  });

  it('passes the refusal on as an AnalysisExportError', async () => {
    const refusal = {
      error: 'VALIDATION',
      message: 'cohort too small',
      issues: [{ path: 'cohort', rule: 'minimum-cohort', message: 'fewer than 20 children' }],
    };
    const error = await fetchAnswer('http://x', 't', query, answering(400, refusal)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnalysisExportError);
    expect((error as Error).message).toMatch(
      /cohort too small\n {2}cohort: fewer than 20 children \[minimum-cohort\]/,
    );
  });

  it('says when the projection is not there', async () => {
    const down: typeof fetch = () =>
      Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }));
    await expect(fetchAnswer('http://127.0.0.1:1', 't', query, down)).rejects.toThrow(
      'the projection at http://127.0.0.1:1 did not answer: ECONNREFUSED (is it running? --url sets its address)',
    );
  });
});
