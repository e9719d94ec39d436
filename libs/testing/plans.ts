import type { Pool } from 'pg';

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Index Cond'?: string;
  readonly Filter?: string;
  readonly Plans?: readonly PlanNode[];
}

const INDEX_SCANS = new Set(['Index Scan', 'Index Only Scan', 'Bitmap Index Scan']);

function scansOfWholeTables(node: PlanNode): string[] {
  const here: string[] = [];
  const type = node['Node Type'];
  if (type === 'Seq Scan') here.push(`${type} on ${node['Relation Name']} (${node.Filter ?? 'no filter'})`);
  if (INDEX_SCANS.has(type) && !node['Index Cond'])
    here.push(`${type} of ${node['Index Name']} without an index condition (${node.Filter ?? 'no filter'})`);
  return [...here, ...(node.Plans ?? []).flatMap(scansOfWholeTables)];
}

/**
 * The scans in `text`'s plan that read a table end to end, as "node on table (filter)": a
 * sequential scan, or an index walked whole under a filter. Planned with sequential scans priced
 * out (enable_seqscan off, in a transaction rolled back), so the answer does not hang on how many
 * rows the test database holds: what remains has no index to go by, and on a large store it reads
 * every row. A statement a request runs should give none.
 */
export async function wholeTableReads(pool: Pool, text: string, values: unknown[]): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL enable_seqscan = off');
    const result = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) ${text}`,
      values,
    );
    return scansOfWholeTables(result.rows[0]['QUERY PLAN'][0].Plan);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}
