import type { Pool } from 'pg';
import { createPool } from '@throughline/platform';
import { createTestDatabase, wholeTableReads, type TestDatabase } from '@throughline/testing';
import { ACTIVE_GRANT } from './break-glass';
import { migrateAccess } from './policy-store';

/**
 * Every read of a child's chronology asks whether its reader holds a break-glass grant for it:
 * that must cost the same however many grants were ever made (the table is append-only).
 */
describe('the plan of the break-glass lookup', () => {
  let database: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    database = await createTestDatabase('access_read_plans');
    pool = createPool(database.url);
    await migrateAccess(pool);
  });

  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  it("reaches the reader's grants for the child through an index condition", async () => {
    expect(await wholeTableReads(pool, ACTIVE_GRANT.text, ['sw-0001', 'ch_0123456789abcdef0123'])).toEqual(
      [],
    );
  });
});
