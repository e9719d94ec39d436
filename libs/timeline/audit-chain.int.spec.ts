import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { Pool } from 'pg';
import {
  IdentityReview,
  identityMigrationsDirectory,
  migrateIdentity,
  verifyIdentityAuditChain,
  type Reviewer,
} from '@throughline/identity';
import {
  createPool,
  migrate,
  projectRoot,
  readMigrations,
  type AuditChainReport,
} from '@throughline/platform';
import { createTestDatabase, type TestDatabase } from '@throughline/testing';
import { migrateTimeline, timelineMigrationsDirectory, verifyAccessLogChain } from '@throughline/timeline';
import { AccessLog } from '@throughline/access';

const run = promisify(execFile);
const REVIEWER: Reviewer = { userId: 'ig-chain', role: 'identity reviewer', purpose: 'identity-review' };
const UNKNOWN_CHILD = `c_${'0'.repeat(32)}`;

let database: TestDatabase;
let pool: Pool;
let review: IdentityReview;
/** scripts/audit-verify.ts bundled from source (its @throughline imports inlined), run as a child process. */
const bundle = join(
  projectRoot(),
  'node_modules',
  '.cache',
  `audit-verify-${randomBytes(4).toString('hex')}.js`,
);

function auditVerify(): Promise<{ stdout: string }> {
  return run(process.execPath, [bundle], { env: { ...process.env, DATABASE_URL: database.url } });
}

/** Changes a row the way only the owner can: with the append-only trigger off. */
async function asOwner(table: string, sql: string, params: unknown[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`ALTER TABLE ${table} DISABLE TRIGGER ${table}_append_only_rows`);
    await client.query(sql, params);
    await client.query(`ALTER TABLE ${table} ENABLE TRIGGER ${table}_append_only_rows`);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

async function seqs(table: string): Promise<number[]> {
  const { rows } = await pool.query<{ seq: string }>(`SELECT seq FROM ${table} ORDER BY seq`);
  return rows.map((row) => Number(row.seq));
}

/** An access record as the apps write it now (AccessLog), on `on` (default the test's pool). */
function refuse(action: string, requestedChildKey?: string, on: Pool = pool): Promise<void> {
  return new AccessLog(on).record({
    action,
    purpose: 'direct-care',
    ...(requestedChildKey ? { requestedChildKey } : {}),
    outcome: 'VALIDATION',
  });
}

/** Rows as the apps wrote them before the chain and before `details` (migrations 001–004). */
async function legacyAccessRows(): Promise<void> {
  for (const [action, key] of [
    ['lookup', null],
    ['timeline', UNKNOWN_CHILD],
    ['timeline', 'bad key'],
  ] as const)
    await pool.query(
      `INSERT INTO access_log (user_id, user_role, purpose, action, requested_child_key, returned_entries, withheld, outcome)
       VALUES ('int-chain', 'tester', 'direct-care', $1, $2, 0, '[]', 'VALIDATION')`,
      [action, key],
    );
}

async function readAccess(): Promise<void> {
  await refuse('lookup');
  await refuse('timeline', UNKNOWN_CHILD);
}

beforeAll(async () => {
  await build({
    entryPoints: [join(projectRoot(), 'scripts', 'audit-verify.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    outfile: bundle,
    logLevel: 'error',
  });
  database = await createTestDatabase('tl_chain');
  pool = createPool(database.url);
  // Rows written before the chain existed are chained by the migration, in id order.
  await migrate(
    pool,
    'timeline',
    readMigrations(timelineMigrationsDirectory()).filter((m) => m.version < 5),
  );
  await migrate(
    pool,
    'identity',
    readMigrations(identityMigrationsDirectory()).filter((m) => m.version < 2),
  );
  review = new IdentityReview(pool, {} as never, {} as never);
  await legacyAccessRows();
  await review.recordRefusal(REVIEWER, 'confirm', 'VALIDATION');
  await review.recordRefusal(REVIEWER, 'link', 'VALIDATION');
  await migrateTimeline(pool);
  await migrateIdentity(pool);
}, 60000);

afterAll(async () => {
  rmSync(bundle, { force: true });
  await pool?.end();
  await database?.drop();
});

describe('the audit hash chains', () => {
  it('chains the rows that were there before the migration', async () => {
    expect(await seqs('access_log')).toEqual([1, 2, 3]);
    expect(await seqs('identity_audit_log')).toEqual([1, 2]);
    expect(await verifyAccessLogChain(pool)).toMatchObject({ ok: true, rows: 3 });
    expect(await verifyIdentityAuditChain(pool)).toMatchObject({ ok: true, rows: 2 });
    const { stdout } = await auditVerify();
    expect(stdout).toMatch(
      /^access_log: OK, 3 rows chained \(head [0-9a-f]{64}\)\nidentity_audit_log: OK, 2 rows/,
    );
  });

  it('chains rows written through the real code paths, whatever the session time zone', async () => {
    await readAccess();
    await refuse('lookup');
    await review.recordRefusal(REVIEWER, 'unlink', 'VALIDATION');
    const elsewhere = createPool(database.url, { options: '-c TimeZone=Pacific/Chatham' });
    try {
      await refuse('lookup', undefined, elsewhere);
      await new IdentityReview(elsewhere, {} as never, {} as never).recordRefusal(
        REVIEWER,
        'link',
        'VALIDATION',
      );
    } finally {
      await elsewhere.end();
    }
    expect(await verifyAccessLogChain(pool, 2)).toMatchObject({ ok: true, rows: 7 });
    expect(await verifyIdentityAuditChain(pool, 2)).toMatchObject({ ok: true, rows: 4 });
    const first = await pool.query<{ prev_hash: Buffer }>('SELECT prev_hash FROM access_log WHERE seq = 1');
    expect(first.rows[0].prev_hash.equals(Buffer.alloc(32))).toBe(true);
  });

  it('puts concurrent inserts in one gap-free order', async () => {
    const before = (await seqs('access_log')).length;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0 ? refuse('lookup') : review.recordRefusal(REVIEWER, 'confirm', 'VALIDATION'),
      ),
    );
    await Promise.all(Array.from({ length: 20 }, () => refuse('timeline', 'x')));
    const access = await seqs('access_log');
    expect(access).toEqual(Array.from({ length: before + 30 }, (_, i) => i + 1));
    expect(await verifyAccessLogChain(pool, 7)).toMatchObject({ ok: true, rows: before + 30 });
    expect(await verifyIdentityAuditChain(pool)).toMatchObject({ ok: true, rows: 14 });
  });

  it('writes the records that waited for the write before them in one transaction, in the order they came', async () => {
    const log = new AccessLog(pool);
    const before = (await seqs('access_log')).length;
    await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        log.record({ action: 'lookup', purpose: 'direct-care', outcome: 'VALIDATION', extra: { n } }),
      ),
    );
    const { rows } = await pool.query<{ n: number; tx: string }>(
      "SELECT (details->'extra'->>'n')::int AS n, xmin::text AS tx FROM access_log WHERE seq > $1 ORDER BY seq",
      [before],
    );
    expect(rows.map((row) => row.n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    // The first alone (nothing waited before it), the nineteen that came while it was written together.
    expect(new Set(rows.map((row) => row.tx)).size).toBe(2);
    expect(await verifyAccessLogChain(pool, 6)).toMatchObject({ ok: true, rows: before + 20 });
  });

  it('fails only the record that cannot be written when its group fails, and writes the others', async () => {
    const log = new AccessLog(pool);
    const before = (await seqs('access_log')).length;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, n) =>
        log.record({
          action: n === 13 ? 'Not An Action' : 'lookup',
          purpose: 'direct-care',
          outcome: 'VALIDATION',
          extra: { n },
        }),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(
      Array.from({ length: 20 }, (_, n) => (n === 13 ? 'rejected' : 'fulfilled')),
    );
    expect(outcomes[13]).toMatchObject({ reason: { constraint: 'access_log_action_check' } });
    const { rows } = await pool.query<{ n: number }>(
      "SELECT (details->'extra'->>'n')::int AS n FROM access_log WHERE seq > $1 ORDER BY seq",
      [before],
    );
    expect(rows.map((row) => row.n)).toEqual(Array.from({ length: 20 }, (_, n) => n).filter((n) => n !== 13));
    expect(await verifyAccessLogChain(pool)).toMatchObject({ ok: true, rows: before + 19 });
  });

  it('names a row changed behind the append-only trigger, and passes again once it is put back', async () => {
    const target = await pool.query<{ id: string; purpose: string }>(
      'SELECT id::text, purpose FROM access_log WHERE seq = 5',
    );
    const { id, purpose } = target.rows[0];
    await asOwner('access_log', 'UPDATE access_log SET purpose = $1 WHERE id = $2', ['curiosity', id]);
    const report: AuditChainReport = await verifyAccessLogChain(pool, 3);
    expect(report).toEqual({
      table: 'access_log',
      ok: false,
      rows: 4,
      seq: '5',
      id,
      problem: 'row_hash mismatch',
    });
    await asOwner('access_log', 'UPDATE access_log SET purpose = $1 WHERE id = $2', [purpose, id]);
    expect(await verifyAccessLogChain(pool)).toMatchObject({ ok: true });
  });

  it('names the row after one deleted behind the append-only trigger', async () => {
    const { rows } = await pool.query<{ id: string }>(
      'SELECT id::text FROM identity_audit_log WHERE seq = 4',
    );
    await asOwner('identity_audit_log', 'DELETE FROM identity_audit_log WHERE seq = 3', []);
    expect(await verifyIdentityAuditChain(pool)).toEqual({
      table: 'identity_audit_log',
      ok: false,
      rows: 2,
      seq: '4',
      id: rows[0].id,
      problem: 'seq gap',
    });
  });

  it('npm run audit:verify exits 1 naming the first broken row, and nothing of its content', async () => {
    const target = await pool.query<{ id: string }>('SELECT id::text FROM access_log WHERE seq = 3');
    await asOwner('access_log', "UPDATE access_log SET outcome = 'ok' WHERE seq = 3", []);
    const failure = await auditVerify().then(
      () => undefined,
      (error: { code: number; stdout: string }) => error,
    );
    expect(failure?.code).toBe(1);
    const lines = failure!.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe(
      'access_notification_reads: not in this database (the service that writes it has not started)',
    );
    expect(lines[0]).toBe(
      `access_log: BROKEN at seq 3 (id ${target.rows[0].id}): row_hash mismatch (2 rows intact before it)`,
    );
    expect(lines[1]).toMatch(/^identity_audit_log: BROKEN at seq 4 \(id \d+\): seq gap/);
    expect(failure!.stdout).not.toMatch(/int-chain|ig-chain|direct-care|c_0{32}/);
  });
});
