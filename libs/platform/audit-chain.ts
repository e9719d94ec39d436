import type { Pool } from 'pg';

/**
 * An append-only table chained by a migration's BEFORE INSERT trigger: `seq` (1, 2, 3, …),
 * `prev_hash` (the previous row's row_hash, 32 zero bytes for seq 1) and
 * `row_hash` = sha256(prev_hash || convert_to(canonical, 'UTF8')).
 */
export interface AuditChain {
  readonly table: string;
  /**
   * The row's canonical text as an SQL expression over the alias `r`: the same form the
   * table's `<table>_row_hash` function hashes. Kept here as well as in the migration, so a
   * function replaced in the database does not hide a row changed behind it.
   */
  readonly canonical: string;
}

export type AuditChainProblem = 'row_hash mismatch' | 'prev_hash does not link' | 'seq gap' | 'not chained';

export type AuditChainReport =
  | { readonly table: string; readonly ok: true; readonly rows: number; readonly head?: string }
  | {
      readonly table: string;
      readonly ok: false;
      readonly rows: number;
      readonly seq: string | null;
      readonly id: string;
      readonly problem: AuditChainProblem;
    };

const GENESIS = Buffer.alloc(32);

interface ChainRow {
  seq: string;
  id: string;
  prev_hash: Buffer;
  row_hash: Buffer;
  expected: Buffer;
}

/**
 * Walks a chained table in seq order, in batches, recomputing each row's hash in SQL. Reports
 * the first broken row (seq, id and what failed) or the number of rows and the last hash.
 * A row whose seq is one past the previous row's, whose prev_hash is the previous row_hash and
 * whose row_hash is its content's hash is intact; a removed row shows at the next one (a seq gap).
 * Removing the newest rows leaves no trace: compare the head with one recorded elsewhere.
 */
export async function verifyAuditChain(
  pool: Pool,
  chain: AuditChain,
  batchSize = 1000,
): Promise<AuditChainReport> {
  if (!/^[a-z_][a-z0-9_]*$/.test(chain.table)) throw new Error(`bad audit table name "${chain.table}"`);
  const table = chain.table;
  const unchained = await pool.query<{ id: string }>(
    `SELECT id FROM ${table} WHERE seq IS NULL OR prev_hash IS NULL OR row_hash IS NULL ORDER BY id LIMIT 1`,
  );
  if (unchained.rows[0])
    return { table, ok: false, rows: 0, seq: null, id: String(unchained.rows[0].id), problem: 'not chained' };
  let rows = 0;
  let lastSeq = 0n;
  let lastHash: Buffer = GENESIS;
  for (;;) {
    const batch = await pool.query<ChainRow>(
      `SELECT r.seq::text AS seq, r.id::text AS id, r.prev_hash, r.row_hash,
              sha256(r.prev_hash || convert_to((${chain.canonical})::text, 'UTF8')) AS expected
         FROM ${table} r WHERE r.seq > $1 ORDER BY r.seq LIMIT $2`,
      [lastSeq.toString(), batchSize],
    );
    for (const row of batch.rows) {
      const broken = (problem: AuditChainProblem): AuditChainReport => ({
        table,
        ok: false,
        rows,
        seq: row.seq,
        id: row.id,
        problem,
      });
      const seq = BigInt(row.seq);
      if (seq !== lastSeq + 1n) return broken('seq gap');
      if (!row.prev_hash.equals(lastHash)) return broken('prev_hash does not link');
      if (!row.row_hash.equals(row.expected)) return broken('row_hash mismatch');
      rows += 1;
      lastSeq = seq;
      lastHash = row.row_hash;
    }
    if (batch.rows.length < batchSize) break;
  }
  return rows === 0 ? { table, ok: true, rows } : { table, ok: true, rows, head: lastHash.toString('hex') };
}

/** One line for an operator: no row content, only the table, seq and id. */
export function describeAuditChainReport(report: AuditChainReport): string {
  if (report.ok)
    return `${report.table}: OK, ${report.rows} rows chained${report.head ? ` (head ${report.head})` : ''}`;
  const where = report.seq === null ? `id ${report.id}` : `seq ${report.seq} (id ${report.id})`;
  return `${report.table}: BROKEN at ${where}: ${report.problem} (${report.rows} rows intact before it)`;
}
