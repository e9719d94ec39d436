import type { Pool } from 'pg';
import { describeAuditChainReport, verifyAuditChain } from './audit-chain';

describe('describeAuditChainReport', () => {
  it('says a chain is intact with its row count and head', () => {
    expect(describeAuditChainReport({ table: 'access_log', ok: true, rows: 0 })).toBe(
      'access_log: OK, 0 rows chained',
    );
    expect(describeAuditChainReport({ table: 'access_log', ok: true, rows: 3, head: 'ab'.repeat(32) })).toBe(
      `access_log: OK, 3 rows chained (head ${'ab'.repeat(32)})`,
    );
  });

  it('names the first broken row by seq and id only', () => {
    expect(
      describeAuditChainReport({
        table: 'identity_audit_log',
        ok: false,
        rows: 4,
        seq: '5',
        id: '12',
        problem: 'seq gap',
      }),
    ).toBe('identity_audit_log: BROKEN at seq 5 (id 12): seq gap (4 rows intact before it)');
    expect(
      describeAuditChainReport({
        table: 'access_log',
        ok: false,
        rows: 0,
        seq: null,
        id: '7',
        problem: 'not chained',
      }),
    ).toBe('access_log: BROKEN at id 7: not chained (0 rows intact before it)');
  });
});

describe('verifyAuditChain', () => {
  it('refuses a table name it would have to quote', async () => {
    await expect(verifyAuditChain({} as Pool, { table: 'access_log; --', canonical: 'r' })).rejects.toThrow(
      /bad audit table name/,
    );
  });
});
