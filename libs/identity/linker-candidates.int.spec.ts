import type { Pool, PoolClient } from 'pg';
import { createPool } from '@throughline/platform';
import { createTestDatabase, type TestDatabase } from '@throughline/testing';
import { broadKeys, keyForReport, migrateIdentity } from './linker';
import { known, LinkerState, SnapshotCache, type CandidateLimits } from './linker-state';
import type { SubjectSnapshot } from './subject';

/**
 * Which records a decision scores (decision 026): those sharing an identifier, then the most
 * keys, up to `candidates`; a key held by more than `block` records finds none. Read from the
 * real tables, as a batch of the linker reads them.
 */
const DOB = 'block:dob:2015-03-02';
const NAME = 'block:name:J500:S530';
const NHS = 'id:nhs:9990001234';
const snapshotOf = (streamId: string) => ({ streamId }) as unknown as SubjectSnapshot;
const ids = (snapshots: readonly SubjectSnapshot[]) => snapshots.map((snapshot) => snapshot.streamId);
const record = (n: number) => `health-r${String(n).padStart(2, '0')}`;

describe('the linker choosing candidates', () => {
  let database: TestDatabase;
  let pool: Pool;
  let client: PoolClient;

  beforeAll(async () => {
    database = await createTestDatabase('identity_candidates');
    pool = createPool(database.url);
    await migrateIdentity(pool);
    // Ten records share a date of birth (r01–r10); r09–r11 a name; r12 an NHS number.
    const held: [string, string][] = [
      ...Array.from({ length: 10 }, (_, i): [string, string] => [DOB, record(i + 1)]),
      [NAME, record(9)],
      [NAME, record(10)],
      [NAME, record(11)],
      [NHS, record(12)],
    ];
    const records = [...new Set(held.map(([, stream]) => stream))];
    await pool.query(
      `INSERT INTO identity_subjects (stream_id, snapshot, first_seen_position, last_changed_position)
       SELECT stream_id, jsonb_build_object('streamId', stream_id), 1, 1 FROM unnest($1::text[]) AS r (stream_id)`,
      [records],
    );
    await pool.query(
      'INSERT INTO identity_subject_keys (key, stream_id) SELECT * FROM unnest($1::text[], $2::text[])',
      [held.map(([key]) => key), held.map(([, stream]) => stream)],
    );
    client = await pool.connect();
  });

  afterAll(async () => {
    client.release();
    await pool.end();
    await database.drop();
  });

  /** A batch in which `changing` records take `keys`; the candidates of each as it changes, in order. */
  async function candidatesIn(
    changing: readonly string[],
    keys: readonly string[],
    limits: CandidateLimits,
  ): Promise<string[][]> {
    const subjects = new Map(changing.map((stream) => [stream, null]));
    const state = await LinkerState.read(client, subjects, { changing, keys, named: [] }, limits);
    return changing.map((stream, index) => {
      state.saveSubject(known(snapshotOf(stream)), keys, BigInt(100 + index));
      return ids(state.neighbourhood(snapshotOf(stream), keys).candidates);
    });
  }

  it('reports the keys held by more records than the bound, most held first, identifiers masked', async () => {
    expect(await broadKeys(pool, 5)).toEqual({
      total: 1,
      keys: [{ kind: 'block:dob', key: DOB, holders: 10 }],
    });
    expect(await broadKeys(pool, 0, 2)).toEqual({
      total: 3,
      keys: [
        { kind: 'block:dob', key: DOB, holders: 10 },
        { kind: 'block:name', key: NAME, holders: 3 },
      ],
    });
    const all = await broadKeys(pool, 0);
    expect(all.keys[2]).toEqual({ kind: 'id:nhs', key: 'id:nhs:*******234', holders: 1 });
    expect(await broadKeys(pool, 10)).toEqual({ total: 0, keys: [] });
    expect(keyForReport('id:upn:A123456789012')).toEqual({ kind: 'id:upn', key: 'id:upn:**********012' });
  });

  it('scores every holder while they are few, in stream order', async () => {
    const [candidates] = await candidatesIn(['social-care-x'], [DOB, NAME, NHS], {
      candidates: 50,
      block: 50,
    });
    expect(candidates).toEqual(Array.from({ length: 12 }, (_, i) => record(i + 1)));
  });

  it('keeps those sharing an identifier, then the most keys, when there are more than it scores', async () => {
    // Stream order alone would keep r01–r03, none of which shares more than the date of birth.
    const [candidates] = await candidatesIn(['social-care-x'], [DOB, NAME, NHS], {
      candidates: 3,
      block: 50,
    });
    expect(candidates).toEqual([record(9), record(10), record(12)]);
    const [four] = await candidatesIn(['social-care-x'], [DOB, NAME, NHS], { candidates: 4, block: 50 });
    expect(four).toEqual([record(1), record(9), record(10), record(12)]);
  });

  it('finds no candidates by a key held by more records than a block may hold', async () => {
    const [candidates] = await candidatesIn(['social-care-x'], [DOB, NAME, NHS], {
      candidates: 50,
      block: 9,
    });
    expect(candidates).toEqual([record(9), record(10), record(11), record(12)]);
  });

  it("counts the batch's own holders as the tables would at that point of the batch", async () => {
    // Ten outside, then x: eleven hold the date of birth, a block of eleven is allowed. Then y
    // takes it too (twelve): from y's decision on, the key is too broad.
    const [x, y] = await candidatesIn(['social-care-x', 'social-care-y'], [DOB, NAME], {
      candidates: 50,
      block: 11,
    });
    expect(x).toEqual([...Array.from({ length: 10 }, (_, i) => record(i + 1)), record(11)]);
    expect(y).toEqual([record(9), record(10), record(11), 'social-care-x']);
  });

  describe('with the snapshots known from earlier batches', () => {
    /** A snapshot the table does not hold: where a read gives it, it came from the cache. */
    const remembered = (streamId: string) => ({ streamId, remembered: true }) as unknown as SubjectSnapshot;

    it("takes a snapshot from the cache only at the position the record's row holds", async () => {
      const cache = new SnapshotCache();
      cache.set(record(1), '1', remembered(record(1)));
      // Known at a position the row does not hold (a batch that wrote it failed): read again.
      cache.set(record(2), '7', remembered(record(2)));
      const subjects = await LinkerState.readSubjects(
        client,
        [record(1), record(2), 'social-care-none'],
        cache,
      );
      expect(subjects.get(record(1))?.snapshot).toEqual(remembered(record(1)));
      expect(subjects.get(record(2))?.snapshot).toEqual(snapshotOf(record(2)));
      expect(subjects.get('social-care-none')).toBeNull();
      // What was read is known now, at the row's position.
      expect(cache.get(record(2), '1')).toEqual(snapshotOf(record(2)));
      expect(cache.get(record(2), '7')).toBeUndefined();
    });

    it("reads the candidates' rows the cache does not know at their positions, once a batch", async () => {
      const cache = new SnapshotCache();
      cache.set(record(3), '1', remembered(record(3)));
      cache.set(record(4), '2', remembered(record(4)));
      const subjects = new Map([['social-care-x', null]]);
      const state = await LinkerState.read(
        client,
        subjects,
        { changing: ['social-care-x'], keys: [DOB], named: [] },
        { candidates: 50, block: 50 },
        cache,
      );
      state.saveSubject(known(snapshotOf('social-care-x')), [DOB], 100n);
      const { candidates } = state.neighbourhood(snapshotOf('social-care-x'), [DOB]);
      expect(candidates).toHaveLength(10);
      expect(candidates.filter((snapshot) => 'remembered' in snapshot)).toEqual([remembered(record(3))]);
      expect(cache.get(record(4), '1')).toEqual(snapshotOf(record(4)));
    });
  });
});
