import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { smallAnswer } from './answer.test-helper';
import { analysisExportCommand, AnalysisExportError, AnalysisExportUsageError } from './command';

interface Seen {
  readonly headers: IncomingMessage['headers'];
  readonly url: string | undefined;
  readonly body: unknown;
}

// The CLI over real HTTP against a stand-in for the projection's POST /v1/analysis/queries on
// 127.0.0.1 (the real route is tested with the running app by the team), writing real files.
describe('npm run analysis:export against a projection on loopback', () => {
  let server: Server;
  let url: string;
  let directory: string;
  let reply: { status: number; body: unknown } = { status: 200, body: smallAnswer };
  const seen: Seen[] = [];

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'analysis-export-cli-'));
    server = createServer((request, response) => {
      let text = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (text += chunk));
      request.on('end', () => {
        seen.push({ headers: request.headers, url: request.url, body: JSON.parse(text) });
        response.writeHead(reply.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((done) => server.close(done));
    await rm(directory, { recursive: true, force: true });
  });

  function run(argv: string[], env: NodeJS.ProcessEnv = { THROUGHLINE_TOKEN: 'analyst.token.value' }) {
    let printed = '';
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, done) {
        printed += chunk.toString();
        done();
      },
    });
    return analysisExportCommand(argv, { env, stdout, now: () => new Date('2026-12-02T10:00:00Z') }).then(
      (code) => ({ code, printed }),
    );
  }

  it('asks with the cohort file, the token and purpose analysis, and writes the CSV and its dictionary', async () => {
    reply = { status: 200, body: smallAnswer };
    const cohortFile = join(directory, 'cohort.json');
    await writeFile(cohortFile, JSON.stringify({ ageBands: ['1-4', '5-9'], localAuthorities: ['991'] }));
    const out = join(directory, 'csv');
    const { code, printed } = await run([
      '--measure',
      're-referrals-12-months',
      '--format',
      'csv',
      '--cohort',
      cohortFile,
      '--group-by',
      'period,age-band',
      '--out',
      out,
      '--url',
      url,
    ]);
    expect(code).toBe(0);
    const request = seen[seen.length - 1];
    expect(request.url).toBe('/v1/analysis/queries');
    expect(request.headers).toMatchObject({
      authorization: 'Bearer analyst.token.value',
      'x-purpose': 'analysis',
    });
    expect(request.body).toEqual({
      measure: 're-referrals-12-months',
      cohort: { ageBands: ['1-4', '5-9'], localAuthorities: ['991'] },
      groupBy: ['period', 'age-band'],
      period: 'financial-year',
    });
    expect((await readdir(out)).sort()).toEqual([
      're_referrals_12_months_by_age_band.csv',
      're_referrals_12_months_by_age_band.meta.csv',
    ]);
    const csv = await readFile(join(out, 're_referrals_12_months_by_age_band.csv'), 'utf8');
    expect(csv.split('\r\n')[2]).toBe('202324,Financial year,5-9,c,c,c,true,below-threshold');
    expect(await readFile(join(out, 're_referrals_12_months_by_age_band.meta.csv'), 'utf8')).toContain(
      'generated_at,Dataset,Exported at,,,,2026-12-02T10:00:00.000Z',
    );
    expect(printed).toMatch(/wrote .*re_referrals_12_months_by_age_band\.csv \(\d+ bytes\)/);
    expect(printed).toMatch(
      /Re-referrals within 12 months: 5 cell\(s\), 2 suppressed \(threshold 10, counts rounded to 5\)/,
    );
  });

  it('writes Parquet that DuckDB reads', async () => {
    reply = { status: 200, body: smallAnswer };
    const out = join(directory, 'parquet');
    const { code } = await run([
      '--measure',
      're-referrals-12-months',
      '--format',
      'parquet',
      '--out',
      out,
      '--url',
      url,
    ]);
    expect(code).toBe(0);
    const path = join(out, 're_referrals_12_months_by_age_band.parquet');
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const connection = await instance.connect();
    try {
      const result = await connection.runAndReadAll(
        `SELECT age_band, count, suppressed FROM '${path}' ORDER BY ALL`,
      );
      expect(result.getRowObjectsJS()).toEqual([
        { age_band: '1-4', count: 45, suppressed: false },
        { age_band: '10-15', count: 30, suppressed: true },
        { age_band: '16-17', count: 0, suppressed: false },
        { age_band: '5-9', count: null, suppressed: true },
        { age_band: 'Total', count: 80, suppressed: false },
      ]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it("shows the projection's refusal with its rule, and writes nothing", async () => {
    reply = {
      status: 400,
      body: {
        error: 'VALIDATION',
        message: 'refused',
        issues: [
          {
            path: 'cohort',
            rule: 'differencing',
            message: 'differs from an earlier cohort by fewer than 10 children',
          },
        ],
      },
    };
    const out = join(directory, 'refused');
    const error = await run(['--measure', 'm', '--format', 'csv', '--out', out, '--url', url]).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AnalysisExportError);
    expect((error as Error).message).toBe(
      'the projection refused the query (400 VALIDATION): refused\n' +
        '  cohort: differs from an earlier cohort by fewer than 10 children [differencing]',
    );
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a cohort file that is missing, not JSON, or not a cohort, naming the field', async () => {
    const notJson = join(directory, 'not.json');
    await writeFile(notJson, '{ageBands: [');
    const wrong = join(directory, 'wrong.json');
    await writeFile(wrong, JSON.stringify({ ageBands: ['0-3'], localAuthorities: ['91'] }));
    const attempt = (file: string) =>
      run(['--measure', 'm', '--format', 'csv', '--cohort', file, '--url', url]).then(
        () => new Error('no refusal'),
        (e: unknown) => e as Error,
      );
    const missing = await attempt(join(directory, 'nowhere.json'));
    expect(missing).toBeInstanceOf(AnalysisExportUsageError);
    expect(missing.message).toMatch(/^--cohort: cannot read .*nowhere\.json: ENOENT$/);
    expect((await attempt(notJson)).message).toMatch(/^--cohort: .*not\.json is not JSON: /);
    expect((await attempt(wrong)).message).toMatch(
      /^--cohort: .*wrong\.json: ageBands\.0: Invalid option: expected one of .*; localAuthorities\.0: a three-digit LA code$/,
    );
  });

  it('says plainly when no projection answers at the address', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const error = await run(['--measure', 'm', '--format', 'csv', '--url', `http://127.0.0.1:${port}`]).then(
      () => new Error('no refusal'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(AnalysisExportError);
    expect(error.message).toBe(
      `the projection at http://127.0.0.1:${port} did not answer: ECONNREFUSED (is it running? --url sets its address)`,
    );
  });
});
