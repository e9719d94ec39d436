import type { Pool } from 'pg';
import { createPool } from '@throughline/platform';
import { createTestDatabase, type TestDatabase } from '@throughline/testing';
import { migrateTimeline } from '@throughline/timeline';
import { READS } from './queries';

/**
 * A read of the timeline (a chronology, a lookup, a child's records) must cost the same in a store
 * of a hundred children and of a million: every table each statement touches (queries.ts READS)
 * is reached through an index condition. Checked on the plan PostgreSQL makes with sequential
 * scans priced out (enable_seqscan off), so the answer does not hang on how many rows the test
 * database holds: a scan that remains, or an index walked whole under a filter, is a table read
 * end to end on a large store.
 */

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Index Cond'?: string;
  readonly Filter?: string;
  readonly Plans?: readonly PlanNode[];
}

const INDEX_SCANS = new Set(['Index Scan', 'Index Only Scan', 'Bitmap Index Scan']);

/** Each scan of a table not driven by an index condition, as "node on table (filter)". */
function wholeTableReads(node: PlanNode): string[] {
  const here: string[] = [];
  const type = node['Node Type'];
  if (type === 'Seq Scan') here.push(`${type} on ${node['Relation Name']} (${node.Filter ?? 'no filter'})`);
  if (INDEX_SCANS.has(type) && !node['Index Cond'])
    here.push(`${type} of ${node['Index Name']} without an index condition (${node.Filter ?? 'no filter'})`);
  return [...here, ...(node.Plans ?? []).flatMap(wholeTableReads)];
}

async function planOf(pool: Pool, text: string, values: unknown[]): Promise<PlanNode> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL enable_seqscan = off');
    const result = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) ${text}`,
      values,
    );
    return result.rows[0]['QUERY PLAN'][0].Plan;
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

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
      const plan = await planOf(pool, READS[name], VALUES[name]);
      expect(wholeTableReads(plan)).toEqual([]);
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
    const plan = await planOf(pool, 'SELECT child_key FROM children WHERE merged_at_position = $1', [7]);
    expect(wholeTableReads(plan)).toEqual([expect.stringMatching(/on children|of children_/)]);
  });
});
