import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { ValidationError, createPool } from '@throughline/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@throughline/testing';
import type { EventToAppend, RecordedEvent, SubscribeOptions } from './port';
import {
  DEFAULT_NOTIFY_CHANNEL,
  PostgresEventStore,
  appendInTransaction,
  readEventsAfter,
} from './postgres-event-store';
import { PostgresSubscription, filteredBatchQuery, readFilteredBatch } from './postgres-subscription';

/**
 * Subscriptions on the real database: server-side filters, catch-up to live, back-pressure,
 * wake-up by NOTIFY (the idle poll is set far beyond every wait here), and what a long
 * transaction — unrelated, or an append left hanging — does to subscribers.
 */

/** Far longer than any wait below: a delivery within it was woken by NOTIFY, not by the poll. */
const NO_POLL_MS = 600_000;
const PROMPT_MS = 3000;

let database: TestDatabase;
let store: PostgresEventStore;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase('tl_event_store_subscription');
  store = await PostgresEventStore.create({ connectionString: database.url });
  pool = createPool(database.url, { max: 6 });
  await pool.query('CREATE TABLE IF NOT EXISTS unrelated_work (id serial PRIMARY KEY, note text)');
});
afterAll(async () => {
  await store?.close();
  await pool?.end();
  await database?.drop();
});

const event = (type = 'ThingHappened', n = 0): EventToAppend => ({
  eventId: randomUUID(),
  type,
  data: { n },
});

interface Collected {
  readonly subscription: PostgresSubscription;
  readonly events: RecordedEvent[];
  readonly batches: number[];
}

function subscribe(options: SubscribeOptions & { idlePollMs?: number } = {}): Collected {
  const events: RecordedEvent[] = [];
  const batches: number[] = [];
  const subscription = new PostgresSubscription({
    handler: async (batch) => {
      batches.push(batch.length);
      events.push(...batch);
    },
    after: options.after ?? 0n,
    batchSize: options.batchSize ?? 500,
    readAfter: (after, maxCount) => readDirect(after, maxCount),
    filter: options.filter,
    db: pool,
    connectionString: database.url,
    notifyChannel: DEFAULT_NOTIFY_CHANNEL,
    idlePollMs: options.idlePollMs ?? NO_POLL_MS,
    onEnded: () => undefined,
  });
  return { subscription, events, batches };
}

/** A read of the store by the caller's own statement: a short page is the head. */
const readDirect = async (after: bigint, maxCount: number) => {
  const events = await readEventsAfter(pool, after, maxCount);
  return { events, atHead: events.length < maxCount };
};

const positionsOf = (events: readonly RecordedEvent[]) => events.map((e) => e.position);

describe('filtered subscriptions', () => {
  it('are what store.subscribeToAll gives when asked for a filter', async () => {
    const cat = `sub${randomUUID().slice(0, 8)}`;
    const after = await store.headPosition();
    await store.append(`${cat}-a`, [event('Wanted', 1)]);
    await store.append(`other${randomUUID().slice(0, 4)}-a`, [event('Wanted', 2)]);
    await store.append(`${cat}-b`, [event('Unwanted', 3), event('Wanted', 4)]);
    const seen: RecordedEvent[] = [];
    const subscription = store.subscribeToAll(
      async (batch) => {
        seen.push(...batch);
      },
      { after, filter: { category: cat, eventTypes: ['Wanted'] } },
    );
    try {
      await waitFor(() => seen.length >= 2, { timeoutMs: PROMPT_MS, message: 'the two matching events' });
      expect(seen.map((e) => [e.streamId, (e.data as { n: number }).n])).toEqual([
        [`${cat}-a`, 1],
        [`${cat}-b`, 4],
      ]);
    } finally {
      await subscription.stop();
    }
    expect(() => store.subscribeToAll(async () => undefined, { filter: { category: 'a-b' } })).toThrow(
      ValidationError,
    );
  });

  it('deliver only the category, from a checkpoint, through catch-up and live, each event once', async () => {
    const cat = `cat${randomUUID().slice(0, 8)}`;
    const other = `oth${randomUUID().slice(0, 8)}`;
    await store.append(`${cat}-before`, [event()]); // below the checkpoint: not delivered
    const checkpoint = await store.headPosition();
    for (let i = 0; i < 5; i += 1) {
      await store.append(`${cat}-${i}`, [event('A', i), event('B', i)]);
      await store.append(`${other}-${i}`, [event('A', i)]);
      await store.append(cat, [event('A', i)]); // no dash: in no category
    }
    const collected = subscribe({ after: checkpoint, batchSize: 3, filter: { category: cat } });
    try {
      await waitFor(() => collected.events.length === 10, { message: 'catch-up of the category' });
      // Live: appended after catch-up, delivered without the idle poll.
      const live = await store.append(`${cat}-live`, [event('A', 99)]);
      await waitFor(() => collected.events.length === 11, { timeoutMs: PROMPT_MS, message: 'live event' });
      expect(collected.events[10].position).toBe(live.positions[0]);

      const expected = (await store.readAll({ after: checkpoint, maxCount: 10_000 })).filter((e) =>
        e.streamId.startsWith(`${cat}-`),
      );
      expect(positionsOf(collected.events)).toEqual(positionsOf(expected));
      expect(Math.max(...collected.batches)).toBeLessThanOrEqual(3);
    } finally {
      await collected.subscription.stop();
    }
    await collected.subscription.finished;
  });

  it('filter by event types, and by category and types together (both must match)', async () => {
    const cat = `typ${randomUUID().slice(0, 8)}`;
    const checkpoint = await store.headPosition();
    await store.append(`${cat}-1`, [event('Opened'), event('Noted'), event('Closed')]);
    await store.append(`else${randomUUID().slice(0, 8)}-1`, [event('Opened'), event('Closed')]);
    const byTypes = subscribe({ after: checkpoint, filter: { eventTypes: ['Opened', 'Closed'] } });
    const both = subscribe({ after: checkpoint, filter: { category: cat, eventTypes: ['Closed'] } });
    try {
      const head = await store.headPosition();
      await waitFor(
        () => byTypes.subscription.lastPosition() >= head && both.subscription.lastPosition() >= head,
        {
          message: 'both subscriptions to scan to the head',
        },
      );
      expect(byTypes.events.map((e) => e.type)).toEqual(['Opened', 'Closed', 'Opened', 'Closed']);
      expect(both.events.map((e) => [e.streamId, e.type])).toEqual([[`${cat}-1`, 'Closed']]);
    } finally {
      await byTypes.subscription.stop();
      await both.subscription.stop();
    }
  });

  it('pass over non-matching events: the checkpoint reaches the head without delivering them', async () => {
    const cat = `rare${randomUUID().slice(0, 8)}`;
    const checkpoint = await store.headPosition();
    await store.appendMany(
      Array.from({ length: 40 }, (_, i) => ({
        streamId: `noise-${randomUUID()}`,
        events: Array.from({ length: 10 }, () => event('Noise', i)),
      })),
    );
    const head = await store.headPosition();
    // batchSize 5 against 400 non-matching events: one read scans them all.
    const batch = await readFilteredBatch(pool, checkpoint, 5, { category: cat });
    expect(batch.events).toEqual([]);
    expect(batch.scannedTo).toBe(head);

    const collected = subscribe({ after: checkpoint, batchSize: 5, filter: { category: cat } });
    try {
      await waitFor(() => collected.subscription.lastPosition() === head, { message: 'scan to the head' });
      expect(collected.events).toEqual([]);
      // A full batch of matches stops at its last event, so nothing after it is passed over.
      const matching = await store.append(
        `${cat}-1`,
        Array.from({ length: 7 }, () => event('Rare')),
      );
      await waitFor(() => collected.events.length === 7, {
        timeoutMs: PROMPT_MS,
        message: 'matching events',
      });
      expect(positionsOf(collected.events)).toEqual(matching.positions);
      expect(collected.batches).toEqual([5, 2]);
      expect(collected.subscription.lastPosition()).toBe(matching.positions[6]);
    } finally {
      await collected.subscription.stop();
    }
  });

  it.each([
    ['category', { category: 'x' }, 'events_category_position'],
    ['event types', { eventTypes: ['A', 'B'] }, 'events_type_position'],
  ] as const)('read by %s with its index, never a scan of the events table', async (_, filter, index) => {
    const query = filteredBatchQuery(10n, 50, filter);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // The test table is small enough that a sequential scan would otherwise win.
      await client.query('SET LOCAL enable_seqscan = off');
      const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query.text}`, query.values);
      const text = plan.rows.map((row) => row['QUERY PLAN']).join('\n');
      expect(text).toContain(index);
      expect(text).not.toContain('Seq Scan');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('refuse a bad filter, naming the field and the rule', () => {
    const attempt = (filter: unknown) => () => subscribe({ filter: filter as SubscribeOptions['filter'] });
    const issueOf = (filter: unknown) => {
      try {
        attempt(filter)();
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).issues[0];
      }
      throw new Error('expected a ValidationError');
    };
    expect(issueOf({ category: 'a-b' })).toMatchObject({ path: 'filter.category', rule: 'category' });
    expect(issueOf({ category: '' })).toMatchObject({ path: 'filter.category', rule: 'category' });
    expect(issueOf({ eventTypes: [] })).toMatchObject({ path: 'filter.eventTypes', rule: 'non_empty' });
    expect(issueOf({ eventTypes: ['A', ''] })).toMatchObject({
      path: 'filter.eventTypes.1',
      rule: 'required',
    });
    expect(issueOf({})).toMatchObject({ path: 'filter', rule: 'required' });
    expect(issueOf({ stream: 'x' })).toMatchObject({ path: 'filter.stream', rule: 'unknown' });
  });
});

it('subscriptions of one store share what one of them read: each event read once, the same objects, frozen', async () => {
  const shared = await createTestDatabase('tl_event_store_shared_read');
  const sharing = await PostgresEventStore.create({ connectionString: shared.url, idlePollMs: NO_POLL_MS });
  try {
    const streams = Array.from({ length: 40 }, (_, index) => ({
      streamId: `shared-${index}`,
      events: Array.from({ length: 50 }, (_, n) => event('ThingHappened', n)),
    }));
    await sharing.appendMany(streams);
    const head = await sharing.headPosition();
    // Three readers from the start, as the projection app's read models after a reset, the third
    // with another page size and a slower handler.
    const seen = [500, 500, 300].map((batchSize, index) => {
      const events: RecordedEvent[] = [];
      const subscription = sharing.subscribeToAll(
        async (batch) => {
          if (index === 2) await new Promise((resolve) => setTimeout(resolve, 5));
          events.push(...batch);
        },
        { batchSize },
      );
      return { events, subscription };
    });
    await waitFor(() => seen.every(({ events }) => events.at(-1)?.position === head), { timeoutMs: 20_000 });
    await Promise.all(seen.map(({ subscription }) => subscription.stop()));
    const positions = (events: readonly RecordedEvent[]) => events.map((recorded) => recorded.position);
    expect(positions(seen[0].events)).toHaveLength(2000);
    expect(positions(seen[1].events)).toEqual(positions(seen[0].events));
    expect(positions(seen[2].events)).toEqual(positions(seen[0].events));
    seen[1].events.forEach((recorded, index) => expect(recorded).toBe(seen[0].events[index]));
    expect(Object.isFrozen(seen[0].events[0].data)).toBe(true);
    const stats = sharing.sharedReadStats();
    // Read from the database about once, handed out about twice more.
    expect(stats.misses).toBeLessThan(2 * 2000);
    expect(stats.hits).toBeGreaterThanOrEqual(2000);
    expect(stats.hits + stats.misses).toBe(3 * 2000);
  } finally {
    await sharing.close();
    await shared.drop();
  }
});

it('back-pressure: the next batch is not read until the handler resolved, and batches are bounded', async () => {
  const checkpoint = await store.headPosition();
  await store.append(
    `bp-${randomUUID()}`,
    Array.from({ length: 4 }, () => event()),
  );
  let release: () => void = () => undefined;
  const calls: number[] = [];
  const subscription = new PostgresSubscription({
    handler: async (batch) => {
      calls.push(batch.length);
      if (calls.length === 1) await new Promise<void>((resolve) => (release = resolve));
    },
    after: checkpoint,
    batchSize: 3,
    readAfter: (after, maxCount) => readDirect(after, maxCount),
    connectionString: database.url,
    notifyChannel: DEFAULT_NOTIFY_CHANNEL,
    idlePollMs: NO_POLL_MS,
    onEnded: () => undefined,
  });
  try {
    await waitFor(() => calls.length === 1, { message: 'first batch' });
    await store.append(`bp-${randomUUID()}`, [event()]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls).toEqual([3]); // still in the first handler call
    expect(subscription.lastPosition()).toBe(checkpoint);
    release();
    await waitFor(() => calls.reduce((a, b) => a + b, 0) === 5, { message: 'the rest' });
    expect(calls).toEqual([3, 2]);
  } finally {
    await subscription.stop();
  }
});

it('at the head it reads only for a NOTIFY past what it read: no empty read after each batch', async () => {
  const checkpoint = await store.headPosition();
  const reads: bigint[] = [];
  const delivered: RecordedEvent[] = [];
  const subscription = new PostgresSubscription({
    handler: async (batch) => {
      delivered.push(...batch);
    },
    after: checkpoint,
    batchSize: 10,
    readAfter: (after, maxCount) => {
      reads.push(after);
      return readDirect(after, maxCount);
    },
    connectionString: database.url,
    notifyChannel: DEFAULT_NOTIFY_CHANNEL,
    idlePollMs: NO_POLL_MS,
    onEnded: () => undefined,
  });
  try {
    await waitFor(() => reads.length >= 1, { message: 'the first read' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const idle = reads.length;
    for (let round = 1; round <= 3; round++) {
      await store.append(`head-${randomUUID()}`, [event('AtHead', round)]);
      await waitFor(() => delivered.length === round, { timeoutMs: PROMPT_MS, message: `event ${round}` });
      await new Promise((resolve) => setTimeout(resolve, 200));
      // One read an event (woken by its NOTIFY), none after it: before, each was followed by an empty one.
      expect(reads).toHaveLength(idle + round);
    }
    // A NOTIFY announcing a position already read wakes no read; one announcing none (not an
    // append's) is answered by one read of the head.
    const seen = delivered.at(-1)!.position;
    await pool.query('SELECT pg_notify($1, $2)', [DEFAULT_NOTIFY_CHANNEL, seen.toString()]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reads).toHaveLength(idle + 3);
    await pool.query('SELECT pg_notify($1, $2)', [DEFAULT_NOTIFY_CHANNEL, 'not a position']);
    await waitFor(() => reads.length === idle + 4, { timeoutMs: PROMPT_MS, message: 'the read of the head' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reads).toHaveLength(idle + 4);
    expect(reads.at(-1)).toBe(seen);
    // Appends that commit while a batch is handled are still read at once, each exactly once.
    const more = Array.from({ length: 25 }, (_, n) =>
      store.append(`head-${randomUUID()}`, [event('AtHead', n)]),
    );
    await Promise.all(more);
    await waitFor(() => delivered.length === 28, { timeoutMs: PROMPT_MS, message: 'the concurrent appends' });
    expect(new Set(delivered.map((recorded) => recorded.eventId)).size).toBe(28);
  } finally {
    await subscription.stop();
  }
});

describe('read-ahead', () => {
  function readingAhead(after: bigint, handler: (batch: readonly RecordedEvent[]) => Promise<void>) {
    const readAhead: (readonly RecordedEvent[])[] = [];
    const subscription = new PostgresSubscription({
      handler,
      after,
      batchSize: 3,
      readAfter: (from, maxCount) => readDirect(from, maxCount),
      connectionString: database.url,
      notifyChannel: DEFAULT_NOTIFY_CHANNEL,
      idlePollMs: NO_POLL_MS,
      onEnded: () => undefined,
      readAhead: (batch) => readAhead.push(batch),
    });
    return { subscription, readAhead };
  }

  it('reads the next batch while the handler works on a full one, hands it over after, and never at the head', async () => {
    const checkpoint = await store.headPosition();
    const stream = `ra-${randomUUID()}`;
    await store.append(
      stream,
      Array.from({ length: 7 }, (_, n) => event('Ahead', n)),
    );
    let release: () => void = () => undefined;
    const handled: (readonly RecordedEvent[])[] = [];
    const { subscription, readAhead } = readingAhead(checkpoint, async (batch) => {
      handled.push(batch);
      if (handled.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    try {
      await waitFor(() => readAhead.length === 1, { message: 'the second batch read during the first' });
      expect(handled).toHaveLength(1); // the first handler call has not returned
      expect(positionsOf(readAhead[0])).toEqual(
        [1n, 2n, 3n].map((n) => handled[0][handled[0].length - 1].position + n),
      );
      release();
      await waitFor(() => handled.flat().length === 7, { message: 'all seven' });
      expect(handled.map((batch) => batch.length)).toEqual([3, 3, 1]);
      // The batches read ahead are the ones handed over, the same arrays, in order.
      expect(readAhead).toHaveLength(2);
      expect(handled[1]).toBe(readAhead[0]);
      expect(handled[2]).toBe(readAhead[1]);
      expect(positionsOf(handled.flat())).toEqual(
        [...positionsOf(handled.flat())].sort((a, b) => (a < b ? -1 : 1)),
      );
      expect(subscription.lastPosition()).toBe(handled[2][0].position);

      // At the head: a live event is read after the handler, not ahead.
      await store.append(stream, [event('Ahead', 7)]);
      await waitFor(() => handled.flat().length === 8, { timeoutMs: PROMPT_MS, message: 'the live event' });
      expect(readAhead).toHaveLength(2);
    } finally {
      await subscription.stop();
    }
  });

  it('a failed handler ends the subscription with its own error, the batch read ahead dropped', async () => {
    const checkpoint = await store.headPosition();
    await store.append(
      `ra-${randomUUID()}`,
      Array.from({ length: 6 }, (_, n) => event('Ahead', n)),
    );
    const failure = new Error('handler failed');
    const handled: number[] = [];
    const { subscription, readAhead } = readingAhead(checkpoint, async (batch) => {
      handled.push(batch.length);
      await waitFor(() => readAhead.length === 1, { message: 'the next batch read ahead' });
      throw failure;
    });
    await expect(subscription.finished).rejects.toBe(failure);
    expect(handled).toEqual([3]);
    expect(readAhead).toHaveLength(1);
    expect(subscription.lastPosition()).toBe(checkpoint);
  });
});

async function openUnrelatedTransaction(): Promise<PoolClient> {
  const client = await pool.connect();
  await client.query('BEGIN');
  await client.query("INSERT INTO unrelated_work (note) VALUES ('left open')");
  await client.query('SELECT count(*) FROM events'); // it has read the events table too
  return client;
}

it('an unrelated transaction left open does not delay appends or subscribers', async () => {
  const checkpoint = await store.headPosition();
  const all = subscribe({ after: checkpoint });
  const filtered = subscribe({ after: checkpoint, filter: { eventTypes: ['Kept'] } });
  const open = await openUnrelatedTransaction();
  try {
    for (let i = 0; i < 5; i += 1) {
      const started = Date.now();
      const result = await store.append(`busy-${randomUUID()}`, [event('Kept', i), event('Dropped', i)]);
      await waitFor(
        () =>
          all.subscription.lastPosition() >= result.positions[1] &&
          filtered.events.some((e) => e.position === result.positions[0]),
        { timeoutMs: PROMPT_MS, message: `delivery ${i} while a transaction is open` },
      );
      expect(Date.now() - started).toBeLessThan(PROMPT_MS);
    }
    expect(all.events).toHaveLength(10);
    expect(filtered.events.map((e) => e.type)).toEqual(Array(5).fill('Kept'));
  } finally {
    await open.query('ROLLBACK');
    open.release();
    await all.subscription.stop();
    await filtered.subscription.stop();
  }
});

it('an append left hanging holds up other appends (no timeout in the adapter) but not subscribers; ending it frees them', async () => {
  const checkpoint = await store.headPosition();
  const before = await store.append(`hang-before-${randomUUID()}`, [event()]);
  const collected = subscribe({ after: checkpoint });

  // The hanging append: lock taken, positions drawn, never committed by its client.
  const hung = await pool.connect();
  await hung.query('BEGIN');
  const [drawn] = await appendInTransaction(
    hung,
    [{ streamId: `hang-${randomUUID()}`, events: [event()] }],
    {},
    DEFAULT_NOTIFY_CHANNEL,
  );
  const hungPid = (await hung.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  hung.on('error', () => undefined); // its connection is terminated below

  let laterDone = false;
  const later = store.append(`hang-after-${randomUUID()}`, [event()]).then((result) => {
    laterDone = true;
    return result;
  });
  try {
    // Readers are not held up: what was committed before arrives, reads answer at once.
    await waitFor(() => collected.subscription.lastPosition() === before.positions[0], {
      timeoutMs: PROMPT_MS,
      message: 'the committed event while an append hangs',
    });
    const started = Date.now();
    expect(positionsOf(await store.readAll({ after: checkpoint }))).toEqual(before.positions);
    expect(Date.now() - started).toBeLessThan(PROMPT_MS);
    // The other append waits on the lock for as long as the hung one lives.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(laterDone).toBe(false);

    // Ending the hung session (what a server-side timeout would do) rolls it back.
    await pool.query('SELECT pg_terminate_backend($1)', [hungPid]);
    const laterResult = await later;
    expect(laterResult.positions[0]).toBeGreaterThan(drawn.positions[0]);
    await waitFor(() => collected.subscription.lastPosition() === laterResult.positions[0], {
      timeoutMs: PROMPT_MS,
      message: 'the append that waited',
    });
    expect(positionsOf(collected.events)).toEqual([before.positions[0], laterResult.positions[0]]);
  } finally {
    hung.release(true);
    await later.catch(() => undefined);
    await collected.subscription.stop();
  }
});

it('a hung append is bounded by idle_in_transaction_session_timeout set on the database: the server ends it', async () => {
  // Not set by the adapter: a deployment setting (see README, Subscriptions). Connections
  // opened after the ALTER get it; the pools below are created after it.
  const name = decodeURIComponent(new URL(database.url).pathname.slice(1));
  await pool.query(`ALTER DATABASE "${name}" SET idle_in_transaction_session_timeout = '1000ms'`);
  const boundedPool = createPool(database.url, { max: 2 });
  const boundedStore = await PostgresEventStore.create({ connectionString: database.url });
  const checkpoint = await store.headPosition();
  const collected = subscribe({ after: checkpoint });
  const hung = await boundedPool.connect();
  hung.on('error', () => undefined); // the server terminates it
  try {
    await hung.query('BEGIN');
    await appendInTransaction(
      hung,
      [{ streamId: `bounded-hang-${randomUUID()}`, events: [event()] }],
      {},
      DEFAULT_NOTIFY_CHANNEL,
    );
    const started = Date.now();
    const later = await boundedStore.append(`bounded-after-${randomUUID()}`, [event()]);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(500); // it did wait for the hung append's lock
    expect(waited).toBeLessThan(5000); // and the server-side timeout released it
    await waitFor(() => collected.subscription.lastPosition() === later.positions[0], {
      timeoutMs: PROMPT_MS,
      message: 'the append that waited',
    });
    expect(positionsOf(collected.events)).toEqual(later.positions); // the hung append was rolled back
  } finally {
    hung.release(true);
    await pool.query(`ALTER DATABASE "${name}" RESET idle_in_transaction_session_timeout`);
    await collected.subscription.stop();
    await boundedStore.close();
    await boundedPool.end();
  }
});
