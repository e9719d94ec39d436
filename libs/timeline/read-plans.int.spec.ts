import type { Pool } from 'pg';
import { createPool } from '@throughline/platform';
import { createTestDatabase, wholeTableReads, type TestDatabase } from '@throughline/testing';
import { migrateTimeline } from '@throughline/timeline';
import { READS } from './queries';

/**
 * A read of the timeline (a chronology, a lookup, a child's records) must cost the same in a store
 * of a hundred children and of a million: every table each statement touches (queries.ts READS)
 * is reached through an index condition (wholeTableReads: the plan with sequential scans priced
 * out).
 */

describe("the plans of the timeline's reads", () => {
  let database: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    database = await createTestDatabase('tl_read_plans');
    pool = createPool(database.url);
    await migrateTimeline(pool);
  });

  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  const VALUES: Record<keyof typeof READS, unknown[]> = {
    chronology: ['ch_0123456789abcdef0123', ['social-care-SC1'], [41]],
    recordChild: ['health-R1'],
    identifierChild: [['upn', 'former-upn'], 'A123456789012'],
    liveChild: ['ch_0123456789abcdef0123'],
    members: ['ch_0123456789abcdef0123'],
  };

  it.each(Object.keys(READS) as (keyof typeof READS)[])(
    '%s reaches every table through an index condition',
    async (name) => {
      expect(await wholeTableReads(pool, READS[name], VALUES[name])).toEqual([]);
    },
  );

  it('finds the identity events about a record in the index itself, with no pending list to read through', async () => {
    await pool.query(
      `INSERT INTO identity_history (position, event_id, type, subjects, data, recorded_at)
       SELECT n, 'e' || n, 'identity.subject.linked', ARRAY['health-R' || n, 'education-R' || n], '{}', now()
       FROM generate_series(1, 200) AS n`,
    );
    // What a search would have read through: the pages still in the GIN index's pending list.
    const pending = await pool.query<{ pages: number }>(
      `SELECT gin_clean_pending_list('identity_history_subjects')::int AS pages`,
    );
    expect(pending.rows[0].pages).toBe(0);
  });

  it('finds a table read end to end (the check can fail)', async () => {
    // A condition on an expression no index of the table can serve, now or after a new migration.
    const reads = await wholeTableReads(
      pool,
      'SELECT child_key FROM children WHERE merged_at_position + 0 = $1',
      [7],
    );
    expect(reads).toEqual([expect.stringMatching(/on children|of children_/)]);
  });
});
