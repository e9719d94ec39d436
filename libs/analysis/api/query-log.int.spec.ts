import type { Pool } from 'pg';
import { createPool, migrateAsOwner, ValidationError } from '@throughline/platform';
import { createTestDatabase, type TestDatabase } from '@throughline/testing';
import { migrateAnalysis } from '../model/schema';
import type { AnalysisQuery } from '../types';
import { AnalysisQueryLog } from './query-log';

/**
 * The differencing rule's memory on a real PostgreSQL, as the app's role uses it: admitted
 * answers are recorded, a near cohort of the same measure is refused, two near cohorts sent at
 * once cannot both pass, and the apps cannot rewrite what was released.
 */

let database: TestDatabase;
let owner: Pool;
let app: Pool;
let log: AnalysisQueryLog;

beforeAll(async () => {
  database = await createTestDatabase('tl_analysis_query_log');
  await migrateAsOwner({ app: database.appUrl, owner: database.ownerUrl }, migrateAnalysis);
  owner = createPool(database.ownerUrl);
  app = createPool(database.appUrl);
  log = new AnalysisQueryLog(app);
}, 30_000);

afterAll(async () => {
  await app?.end();
  await owner?.end();
  await database?.drop();
});

const query = (cohort: AnalysisQuery['cohort'], measure = 're-referral-12-months'): AnalysisQuery => ({
  measure,
  cohort,
  groupBy: [],
  period: 'financial-year',
});

async function refusedRule(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => (error instanceof ValidationError ? error.issues[0]?.rule : String(error)),
  );
}

describe('AnalysisQueryLog', () => {
  it('records each release with the exact size, and refuses a near cohort of the same measure', async () => {
    await log.admit('analyst-a', query({}), 240, 10, 'json');
    // The same definition again after the store grew by 3: the same cohort, not compared with itself.
    await log.admit('analyst-a', query({}), 243, 10, 'csv');
    expect(await refusedRule(log.admit('analyst-a', query({ ageBands: ['10-15'] }), 236, 10, 'json'))).toBe(
      'differencing',
    );
    // Another measure's population, another analyst, or a difference of the threshold or more: answered.
    await log.admit('analyst-a', query({ ageBands: ['10-15'] }, 'repeat-cp-plan'), 236, 10, 'json');
    await log.admit('analyst-b', query({ ageBands: ['10-15'] }), 236, 10, 'json');
    await log.admit('analyst-a', query({ ageBands: ['5-9'] }), 230, 10, 'json');
    const { rows } = await owner.query<{ analyst: string; measure: string; size: number; released: string }>(
      `SELECT analyst, measure, cohort_size AS size, released_as AS released FROM analysis_query_log ORDER BY seq`,
    );
    expect(rows.map((row) => [row.analyst, row.measure, row.size, row.released])).toEqual([
      ['analyst-a', 're-referral-12-months', 240, 'json'],
      ['analyst-a', 're-referral-12-months', 243, 'csv'],
      ['analyst-a', 'repeat-cp-plan', 236, 'json'],
      ['analyst-b', 're-referral-12-months', 236, 'json'],
      ['analyst-a', 're-referral-12-months', 230, 'json'],
    ]);
  });

  it('lets only one of two near cohorts sent at once through', async () => {
    const results = await Promise.all([
      refusedRule(log.admit('analyst-c', query({ sex: ['female'] }), 100, 10, 'json')),
      refusedRule(log.admit('analyst-c', query({ sex: ['male'] }), 104, 10, 'json')),
    ]);
    expect(results.sort()).toEqual(['differencing', undefined].sort());
  });

  it('is append-only for the apps', async () => {
    await expect(app.query(`UPDATE analysis_query_log SET cohort_size = 0`)).rejects.toThrow();
    await expect(app.query(`DELETE FROM analysis_query_log`)).rejects.toThrow();
    await expect(owner.query(`DELETE FROM analysis_query_log`)).rejects.toThrow(/append-only/);
  });
});
