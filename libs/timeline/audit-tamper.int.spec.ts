import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { Pool } from 'pg';
import { migrateAccess } from '@throughline/access';
import { migrateIdentity } from '@throughline/identity';
import { migrateNotifications } from '@throughline/notifications';
import { createPool, migrateAsOwner, projectRoot } from '@throughline/platform';
import { createTestDatabase, type TestDatabase } from '@throughline/testing';
import { migrateTimeline } from '@throughline/timeline';

/**
 * The tamper test of decision 011: the apps' role cannot change an audit row at all (42501); the
 * owner role can, by disabling the append-only trigger, and `npm run audit:verify` (run here as
 * a child process, reading as the app role) then names the first broken row and exits non-zero.
 */

const run = promisify(execFile);
let database: TestDatabase;
let app: Pool;
let owner: Pool;
/** scripts/audit-verify.ts bundled from source (its @throughline imports inlined), run as a child process. */
const bundle = join(
  projectRoot(),
  'node_modules',
  '.cache',
  `audit-tamper-${randomBytes(4).toString('hex')}.js`,
);

interface Verified {
  readonly code: number;
  readonly stdout: string;
}

/** audit:verify against this file's database, as the apps' role (reading is all it needs). */
function auditVerify(): Promise<Verified> {
  return run(process.execPath, [bundle], {
    env: { ...process.env, DATABASE_URL: database.appUrl },
  }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
  );
}

function lineOf(stdout: string, table: string): string | undefined {
  return stdout.split('\n').find((line) => line.startsWith(`${table}:`));
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
  database = await createTestDatabase('tl_tamper');
  // As the apps migrate: the owner migrates every context that keeps an audit chain, granting the app role.
  await migrateAsOwner({ app: database.appUrl, owner: database.ownerUrl }, async (pool, grants) => {
    await migrateTimeline(pool, grants);
    await migrateIdentity(pool, grants);
    await migrateAccess(pool, grants);
    await migrateNotifications(pool, grants);
  });
  app = createPool(database.appUrl, { max: 2 });
  owner = createPool(database.ownerUrl, { max: 1 });
  // Audit rows written the only way the apps can: INSERT, chained by the trigger.
  for (let n = 1; n <= 5; n += 1)
    await app.query(
      `INSERT INTO access_log (user_id, user_role, purpose, action, child_key, returned_entries)
       VALUES ($1, 'social-worker', 'direct-care', 'timeline', $2, $3)`,
      [`tamper-user-${n}`, `ch_tamper${n}`, n],
    );
  for (let n = 1; n <= 3; n += 1)
    await app.query(
      `INSERT INTO identity_audit_log (user_id, user_role, purpose, action, outcome)
       VALUES ($1, 'identity-reviewer', 'identity-review', 'confirm', 'ok')`,
      [`tamper-reviewer-${n}`],
    );
}, 120_000);

afterAll(async () => {
  rmSync(bundle, { force: true });
  await app?.end();
  await owner?.end();
  await database?.drop();
});

describe('tampering with the audit', () => {
  it('audit:verify passes on the untouched chains', async () => {
    const verified = await auditVerify();
    expect(lineOf(verified.stdout, 'access_log')).toMatch(
      /^access_log: OK, 5 rows chained \(head [0-9a-f]{64}\)$/,
    );
    expect(lineOf(verified.stdout, 'identity_audit_log')).toMatch(/^identity_audit_log: OK, 3 rows chained/);
    expect(verified.code).toBe(0);
  });

  it('the app role cannot change a row, nor switch the append-only trigger off (42501)', async () => {
    for (const sql of [
      "UPDATE access_log SET purpose = 'curiosity' WHERE seq = 3",
      'DELETE FROM access_log WHERE seq = 3',
      'ALTER TABLE access_log DISABLE TRIGGER access_log_append_only_rows',
      "UPDATE identity_audit_log SET outcome = 'rejected' WHERE seq = 2",
      'ALTER TABLE identity_audit_log DISABLE TRIGGER USER',
    ])
      await expect(app.query(sql)).rejects.toMatchObject({ code: '42501' });
  });

  it('an owner who disables the trigger and rewrites a row is caught: audit:verify names the row and exits 1', async () => {
    const { rows } = await owner.query<{ id: string }>('SELECT id::text FROM access_log WHERE seq = 3');
    const client = await owner.connect();
    try {
      await client.query('BEGIN');
      await client.query('ALTER TABLE access_log DISABLE TRIGGER access_log_append_only_rows');
      await client.query("UPDATE access_log SET purpose = 'curiosity' WHERE seq = 3");
      await client.query('ALTER TABLE access_log ENABLE TRIGGER access_log_append_only_rows');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const verified = await auditVerify();
    expect(verified.code).toBe(1);
    expect(lineOf(verified.stdout, 'access_log')).toBe(
      `access_log: BROKEN at seq 3 (id ${rows[0].id}): row_hash mismatch (2 rows intact before it)`,
    );
    expect(lineOf(verified.stdout, 'identity_audit_log')).toMatch(/^identity_audit_log: OK, 3 rows chained/);
    // It names the row, never what the row says.
    expect(verified.stdout).not.toMatch(/tamper-user|curiosity|direct-care|ch_tamper/);
  });

  it('an owner who deletes a row is caught at the row after it', async () => {
    const { rows } = await owner.query<{ id: string }>(
      'SELECT id::text FROM identity_audit_log WHERE seq = 3',
    );
    const client = await owner.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        'ALTER TABLE identity_audit_log DISABLE TRIGGER identity_audit_log_append_only_rows',
      );
      await client.query('DELETE FROM identity_audit_log WHERE seq = 2');
      await client.query('ALTER TABLE identity_audit_log ENABLE TRIGGER identity_audit_log_append_only_rows');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const verified = await auditVerify();
    expect(verified.code).toBe(1);
    expect(lineOf(verified.stdout, 'identity_audit_log')).toBe(
      `identity_audit_log: BROKEN at seq 3 (id ${rows[0].id}): seq gap (1 rows intact before it)`,
    );
  });
});
