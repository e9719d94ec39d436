import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool } from '@throughline/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@throughline/testing';
import type { AppendResult, EventToAppend, RecordedEvent, StreamAppend } from './port';
import { DEFAULT_NOTIFY_CHANNEL, PostgresEventStore, appendInTransaction } from './postgres-event-store';

/**
 * The key property of the store: a reader following readAll from its checkpoint never skips
 * an event, even when a transaction that drew a lower position commits late.
 */

let database: TestDatabase;
let storeA: PostgresEventStore;
let storeB: PostgresEventStore;
let rawPool: Pool;

beforeAll(async () => {
  database = await createTestDatabase('tl_event_store_concurrency');
  storeA = await PostgresEventStore.create({ connectionString: database.url });
  storeB = await PostgresEventStore.create({ connectionString: database.url });
  rawPool = createPool(database.url, { max: 12 });
});
afterAll(async () => {
  await storeA?.close();
  await storeB?.close();
  await rawPool?.end();
  await database?.drop();
});

const event = (n = 0): EventToAppend => ({ eventId: randomUUID(), type: 'ThingHappened', data: { n } });

interface HeldAppend {
  /** Results as they will be if committed: the positions are drawn, the lock is held. */
  readonly drawn: AppendResult[];
  finish(outcome: 'commit' | 'rollback'): Promise<AppendResult[]>;
}

/** Appends exactly as the store does, but leaves the transaction open until finish(). */
async function beginHeldAppend(appends: readonly StreamAppend[]): Promise<HeldAppend> {
  const client = await rawPool.connect();
  try {
    await client.query('BEGIN');
    const drawn = await appendInTransaction(client, appends, {}, DEFAULT_NOTIFY_CHANNEL);
    return {
      drawn,
      async finish(outcome) {
        try {
          await client.query(outcome === 'commit' ? 'COMMIT' : 'ROLLBACK');
          return outcome === 'commit' ? drawn : [];
        } finally {
          client.release();
        }
      },
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
    throw error;
  }
}

async function waitingOnAppendLock(): Promise<number> {
  const result = await rawPool.query<{ waiting: string }>(
    `SELECT count(*) AS waiting FROM pg_stat_activity
     WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
  );
  return Number(result.rows[0].waiting);
}

it('needs the append lock: with a bare sequence, a late commit of a lower position is skipped', async () => {
  // The hazard the lock exists for, shown with plain inserts that bypass the adapter.
  const insert = `INSERT INTO events (stream_id, revision, event_id, type, data)
                  VALUES ($1, 0, $2, 'ThingHappened', '{}') RETURNING position`;
  const head = await storeA.headPosition();
  const slow = await rawPool.connect();
  const fast = await rawPool.connect();
  try {
    await slow.query('BEGIN');
    const lower = BigInt(
      (await slow.query(insert, [`naive-${randomUUID()}`, randomUUID()])).rows[0].position,
    );
    await fast.query('BEGIN');
    const higher = BigInt(
      (await fast.query(insert, [`naive-${randomUUID()}`, randomUUID()])).rows[0].position,
    );
    await fast.query('COMMIT');
    expect(higher).toBeGreaterThan(lower);

    const firstRead = await storeA.readAll({ after: head });
    expect(firstRead.map((e) => e.position)).toEqual([higher]);
    const checkpoint = firstRead[0].position;

    await slow.query('COMMIT');
    expect(await storeA.readAll({ after: checkpoint })).toEqual([]); // the naive reader skipped `lower`
    expect((await storeA.readAll({ after: head })).map((e) => e.position)).toEqual([lower, higher]);
  } finally {
    slow.release();
    fast.release();
  }
});

it('an append held open makes later appends wait for its commit, so positions become visible in order', async () => {
  const head = await storeA.headPosition();
  let laterDone = false;
  const held = await beginHeldAppend([{ streamId: `held-${randomUUID()}`, events: [event(), event()] }]);
  const later = storeB.append(`later-${randomUUID()}`, [event()]).then((result) => {
    laterDone = true;
    return result;
  });

  await waitFor(async () => (await waitingOnAppendLock()) === 1, {
    message: 'the later append to queue on the lock',
  });
  expect(laterDone).toBe(false);
  expect(await storeA.readAll({ after: head })).toEqual([]);

  const [committed] = await held.finish('commit');
  const laterResult = await later;
  expect(laterResult.positions[0]).toBeGreaterThan(committed.positions[1]);
  expect((await storeA.readAll({ after: head })).map((e) => e.position)).toEqual([
    ...committed.positions,
    laterResult.positions[0],
  ]);
});

it('concurrent writers and late commits: a polling reader and a subscription see every committed event once, in order', async () => {
  const head = await storeA.headPosition();
  const committed: AppendResult[] = [];

  // A reader polling readAll from its own checkpoint, as a projection would.
  const polled: RecordedEvent[] = [];
  let polls = 0;
  let readerCheckpoint = head;
  let stopReader = false;
  const reader = (async () => {
    while (!stopReader) {
      const batch = await storeA.readAll({ after: readerCheckpoint, maxCount: 7 });
      polls += 1;
      if (batch.length > 0) {
        polled.push(...batch);
        readerCheckpoint = batch[batch.length - 1].position;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();

  const delivered: RecordedEvent[] = [];
  const subscription = storeB.subscribeToAll(async (batch) => void delivered.push(...batch), {
    after: head,
    batchSize: 5,
  });

  // Plain writers on two stores (two pools). Streams are not shared: without the append lock
  // this test should fail on skipped events, not on revision clashes.
  const writers = Array.from({ length: 4 }, async (_, w) => {
    const store = w % 2 === 0 ? storeA : storeB;
    const streamId = `writer-${w}-${randomUUID()}`;
    for (let i = 0; i < 25; i += 1) {
      const count = 1 + ((w + i) % 3);
      committed.push(
        await store.append(
          streamId,
          Array.from({ length: count }, () => event(i)),
        ),
      );
    }
  });

  // Slow writers: each draws positions, then holds its transaction open until the reader has
  // polled a few more times. Without the append lock the plain writers would commit higher
  // positions meanwhile, the reader would move past, and these events would be skipped.
  const slowWriters = Array.from({ length: 6 }, async (_, s) => {
    await waitFor(() => polls >= s * 4, { message: 'reader progress before a slow writer starts' });
    const held = await beginHeldAppend([
      { streamId: `slow-${s}-${randomUUID()}`, events: [event(s), event(s)] },
      { streamId: `slow-other-${s}-${randomUUID()}`, events: [event(s)] },
    ]);
    let outcome: 'commit' | 'rollback' = 'rollback';
    try {
      const releaseAfterPolls = polls + 3;
      await waitFor(() => polls >= releaseAfterPolls, {
        message: 'reader progress while an append is held open',
      });
      // A rolled-back append burns positions and must leave no trace.
      outcome = s === 2 ? 'rollback' : 'commit';
    } finally {
      committed.push(...(await held.finish(outcome)));
    }
  });

  let finalHead: bigint;
  try {
    await Promise.all([...writers, ...slowWriters]);
    finalHead = await storeA.headPosition();
    await waitFor(() => readerCheckpoint >= finalHead && subscription.lastPosition() >= finalHead, {
      message: 'reader and subscription to reach the head',
    });
  } finally {
    stopReader = true;
    await reader;
    await subscription.stop();
  }
  await subscription.finished;
  const expectedPositions = new Set(committed.flatMap((result) => [...result.positions]).map(String));

  const stored = await storeA.readAll({ after: head, maxCount: 10000 });
  const positionsOf = (events: RecordedEvent[]) => events.map((e) => e.position);
  const strictlyIncreasing = (positions: bigint[]) =>
    positions.every((p, i) => i === 0 || p > positions[i - 1]);

  expect(stored).toHaveLength(expectedPositions.size);
  expect(new Set(positionsOf(stored).map(String))).toEqual(expectedPositions);
  expect(strictlyIncreasing(positionsOf(polled))).toBe(true);
  expect(strictlyIncreasing(positionsOf(delivered))).toBe(true);
  expect(positionsOf(polled)).toEqual(positionsOf(stored));
  expect(positionsOf(delivered)).toEqual(positionsOf(stored));
  expect(polled.map((e) => e.eventId)).toEqual(delivered.map((e) => e.eventId));

  // Revisions in every stream are gap-free and follow the global order.
  const byStream = new Map<string, bigint[]>();
  for (const e of stored) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e.revision]);
  for (const revisions of byStream.values()) {
    expect(revisions).toEqual(revisions.map((_, i) => BigInt(i)));
  }
});
