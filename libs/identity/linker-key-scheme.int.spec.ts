import type { Pool } from 'pg';
import { streamIdOf, type AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { createPool } from '@throughline/platform';
import {
  buildEnrolmentRecorded,
  buildImmunisationGiven,
  createTestDatabase,
  freshRecordId,
  recordedAppend,
  type TestDatabase,
} from '@throughline/testing';
import { IdentityLinker, migrateIdentity, rekeyIdentitySubjects } from './linker';
import { KEY_SCHEME } from './linker-state';

/**
 * The compound blocking keys (decision 027) on a real store and linker: a pair whose broad keys
 * are all held by more records than the block bound is still scored, and records known before
 * the keys existed are given them at start-up.
 */
const COMPOUND = "key ~ '^block:(dob-family|dob-given|yob-name):'";

/** A child as an agency records it: no NHS number or UPN, so only the probabilistic keys can find it. */
function recorded(
  agency: 'health' | 'education',
  dateOfBirth: string,
  given: string,
  family: string,
  sex: '1' | '2' = '2',
): AgencyEvent {
  const subject = { nhsNumber: undefined, upn: undefined, dateOfBirth, name: { given, family }, sex };
  return agency === 'health'
    ? buildImmunisationGiven({
        occurredAt: '2024-01-10T09:00:00Z',
        subject: { recordId: freshRecordId('chs'), ...subject },
      })
    : buildEnrolmentRecorded({
        occurredAt: '2024-09-04T08:00:00Z',
        subject: { recordId: freshRecordId('ed'), ...subject },
      });
}

describe('the linker with compound keys (decision 027)', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let pool: Pool;

  beforeAll(async () => {
    database = await createTestDatabase('identity_key_scheme');
    store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
    pool = createPool(database.url);
    await migrateIdentity(pool);
  });

  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await database?.drop();
  });

  async function linkToHead(linker: IdentityLinker): Promise<void> {
    await linker.start();
    try {
      await linker.waitForPosition(await store.headPosition(), 20_000);
    } finally {
      await linker.stop();
    }
  }

  it('scores a pair by its compound keys when every broad key it holds is too broad', async () => {
    // A and B are one child recorded twice. With blocks of at most 3, their date of birth (shared
    // with the F records), their name (the G records) and their year and family name (the H
    // records) are each held by 5 records and find no candidates. The day (21) allows no
    // day-month swap key, and there is no postcode: no broad key of theirs stays small.
    const a = recorded('health', '2016-02-21', 'Isadora', 'Keyling');
    const b = recorded('education', '2016-02-21', 'Isadora', 'Keyling');
    const fillers = [1, 2, 3].flatMap((n) => [
      recorded('health', '2016-02-21', `Quentin${'x'.repeat(n)}`, 'Zabriskie', '1'),
      recorded('health', `201${n}-05-25`, 'Isadora', 'Keyling'),
      recorded('health', '2016-07-2' + n, 'Bartholomew', 'Keyling', '1'),
    ]);
    await store.appendMany([...fillers, a].map((event) => recordedAppend(event)));
    await store.appendMany([recordedAppend(b)]);

    await linkToHead(
      new IdentityLinker({ pool, store, name: 'compound', candidateLimits: { candidates: 200, block: 3 } }),
    );

    const held = await pool.query<{ key: string; holders: number }>(
      `SELECT key, count(*)::int AS holders FROM identity_subject_keys
       WHERE key IN ('block:dob:2016-02-21', 'block:name:I236:K452', 'block:yob-family:2016:K452')
       GROUP BY key ORDER BY key`,
    );
    expect(held.rows.map((row) => row.holders)).toEqual([5, 5, 5]);
    // (The look-alike fillers are proposed among themselves; A and B only with each other.)
    const proposals = await pool.query<{ subject: string; candidate: string }>(
      'SELECT subject, candidate FROM identity_proposals WHERE $1 IN (subject, candidate) OR $2 IN (subject, candidate)',
      [streamIdOf(a), streamIdOf(b)],
    );
    expect(proposals.rows).toEqual([{ subject: streamIdOf(b), candidate: streamIdOf(a) }]);
  });

  it('gives the records known under an older key scheme the new keys at start-up, once', async () => {
    const before = await pool.query<{ key: string; stream_id: string }>(
      'SELECT key, stream_id FROM identity_subject_keys ORDER BY key, stream_id',
    );
    expect(before.rows.some((row) => /^block:(dob-family|dob-given|yob-name):/.test(row.key))).toBe(true);
    // As a database keyed before the compound keys stands.
    const dropped = await pool.query(`DELETE FROM identity_subject_keys WHERE ${COMPOUND}`);
    await pool.query('UPDATE identity_key_scheme SET version = 1');

    expect(await rekeyIdentitySubjects(pool)).toBe(dropped.rowCount);
    const after = await pool.query(
      'SELECT key, stream_id FROM identity_subject_keys ORDER BY key, stream_id',
    );
    expect(after.rows).toEqual(before.rows);
    const scheme = await pool.query<{ version: number }>('SELECT version FROM identity_key_scheme');
    expect(scheme.rows).toEqual([{ version: KEY_SCHEME }]);

    // Current: nothing to do, even with a key missing.
    await pool.query(`DELETE FROM identity_subject_keys WHERE key LIKE 'block:yob-name:%'`);
    expect(await rekeyIdentitySubjects(pool)).toBe(0);
  });

  it('re-keys beside the subscription when the linker starts', async () => {
    await pool.query(`DELETE FROM identity_subject_keys WHERE ${COMPOUND}`);
    await pool.query('UPDATE identity_key_scheme SET version = 1');
    const linker = new IdentityLinker({ pool, store, name: 'compound' });
    await linker.start();
    try {
      await linker.rekeyed();
      await linker.waitForPosition(await store.headPosition(), 20_000);
    } finally {
      await linker.stop();
    }
    const compound = await pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM identity_subject_keys WHERE ${COMPOUND}`,
    );
    // 11 records with a name and a date of birth, three compound keys each.
    expect(compound.rows[0].count).toBe(33);
    const scheme = await pool.query<{ version: number }>('SELECT version FROM identity_key_scheme');
    expect(scheme.rows).toEqual([{ version: KEY_SCHEME }]);
  });

  it('stops re-keying when the linker stops, leaving the version for the next start', async () => {
    await pool.query(`DELETE FROM identity_subject_keys WHERE ${COMPOUND}`);
    await pool.query('UPDATE identity_key_scheme SET version = 1');
    const stopped = new AbortController();
    stopped.abort();
    expect(await rekeyIdentitySubjects(pool, stopped.signal)).toBe(0);
    const scheme = await pool.query<{ version: number }>('SELECT version FROM identity_key_scheme');
    expect(scheme.rows).toEqual([{ version: 1 }]);
    expect(await rekeyIdentitySubjects(pool)).toBe(33);
  });
});
