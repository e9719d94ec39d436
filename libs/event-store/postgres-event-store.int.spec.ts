import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { ConcurrencyError, ValidationError, createPool } from '@throughline/platform';
import {
  createTestDatabase,
  describeEventStoreContract,
  waitFor,
  type TestDatabase,
} from '@throughline/testing';
import { FRESH_MAX_EVENTS, PostgresEventStore, eventStoreMigrationsDirectory } from './postgres-event-store';
import { EventIdConflictError, StreamTombstonedError, type RecordedEvent, type StreamAppend } from './port';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('tl_event_store');
});
afterAll(async () => {
  await database?.drop();
});

describeEventStoreContract('PostgresEventStore', async () => {
  const store = await PostgresEventStore.create({ connectionString: database.url });
  return { store, cleanup: () => store.close() };
});

describe('PostgresEventStore (PostgreSQL specifics)', () => {
  let store: PostgresEventStore;
  let admin: Client;

  beforeAll(async () => {
    store = await PostgresEventStore.create({ connectionString: database.url });
    admin = new Client({ connectionString: database.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await store?.close();
  });

  const event = () => ({ eventId: randomUUID(), type: 'ThingHappened', data: { n: 1 } });

  it('finds its migrations folder', () => {
    const fromSource = eventStoreMigrationsDirectory();
    expect(existsSync(join(fromSource, '001_event_store.sql'))).toBe(true);
  });

  it('migrates once, however many stores start on the database', async () => {
    const again = await PostgresEventStore.create({ connectionString: database.url });
    await again.close();
    const applied = await admin.query("SELECT version FROM schema_migrations WHERE context = 'event-store'");
    expect(applied.rows.map((row: { version: number }) => row.version).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it.each([
    ['UPDATE', "UPDATE events SET type = 'Rewritten'"],
    ['DELETE', 'DELETE FROM events'],
    ['TRUNCATE', 'TRUNCATE events'],
  ])('keeps events append-only: %s is refused by the database', async (operation, sql) => {
    await store.append(`guard-${randomUUID()}`, [event()]);
    await expect(admin.query(sql)).rejects.toThrow(`events is append-only: ${operation} is not allowed`);
  });

  it('keeps tombstones permanent: UPDATE and DELETE are refused by the database', async () => {
    const streamId = `guard-${randomUUID()}`;
    await store.append(streamId, [event()]);
    await store.tombstoneStream(streamId);
    await expect(
      admin.query('DELETE FROM stream_tombstones WHERE stream_id = $1', [streamId]),
    ).rejects.toThrow('stream_tombstones is permanent: DELETE is not allowed');
    await expect(admin.query("UPDATE stream_tombstones SET stream_id = 'x'")).rejects.toThrow(
      'stream_tombstones is permanent: UPDATE is not allowed',
    );
  });

  it('soft delete writes metadata only: no event row is removed or changed', async () => {
    const streamId = `guard-${randomUUID()}`;
    await store.append(streamId, [event(), event()]);
    await store.deleteStream(streamId);
    const rows = await admin.query('SELECT revision FROM events WHERE stream_id = $1 ORDER BY revision', [
      streamId,
    ]);
    expect(rows.rows).toEqual([{ revision: '0' }, { revision: '1' }]);
    // Expectations still see the last revision of a soft-deleted stream.
    await expect(store.append(streamId, [event()], 'no_stream')).rejects.toBeInstanceOf(ConcurrencyError);
    expect((await store.append(streamId, [event()], 1n)).nextExpectedRevision).toBe(2n);
  });

  // The planner prefers a sequential scan on a small table; with it disabled, it picks an
  // index that fits the query shape, as it would on a large table. The SQL is the store's own,
  // captured from its pool.
  it.each([
    [
      'readStream',
      'events_stream_id_revision_key',
      (s: PostgresEventStore) => s.readStream('explain-1', { fromRevision: 3n, maxCount: 10 }),
    ],
    [
      'readCategory',
      'events_category_position',
      (s: PostgresEventStore) => s.readCategory('explain', { after: 5n }),
    ],
    [
      'readByType',
      'events_type_position',
      (s: PostgresEventStore) => s.readByType('Explained', { maxCount: 10 }),
    ],
  ])('%s reads through the index %s', async (_read, index, read) => {
    const pool = createPool(database.url, { max: 1 });
    const spied = await PostgresEventStore.create({ connectionString: database.url, pool });
    const captured: { text: string; values: unknown[] }[] = [];
    const query = pool.query.bind(pool) as (text: string, values: unknown[]) => Promise<unknown>;
    pool.query = ((text: string, values: unknown[]) => {
      captured.push({ text, values });
      return query(text, values);
    }) as unknown as typeof pool.query;
    try {
      await read(spied);
    } finally {
      await spied.close();
      await pool.end();
    }
    expect(captured).toHaveLength(1);
    await admin.query('SET enable_seqscan = off');
    try {
      const plan = await admin.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN ${captured[0].text}`,
        captured[0].values,
      );
      expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toContain(index);
    } finally {
      await admin.query('RESET enable_seqscan');
    }
  });

  it('concurrent appends on one store (group commit) each get their own outcome, nothing of a failed one is written', async () => {
    const run = randomUUID();
    const existing = `group-existing-${run}`;
    const [first] = (await store.append(existing, [event()])).positions;
    const stored = event();
    const [storedAt] = (await store.append(`group-again-${run}`, [stored])).positions;
    const tombstoned = `group-tombstoned-${run}`;
    await store.append(tombstoned, [event()]);
    await store.tombstoneStream(tombstoned);

    // All issued at once: they queue behind one another and are written in groups.
    const fresh = Array.from({ length: 12 }, (_, n) => store.append(`group-${n}-${run}`, [event(), event()]));
    const stale = store.append(existing, [event()], 5n);
    const exact = store.append(existing, [event()], 0n);
    const again = store.append(`group-again-${run}`, [stored], 'no_stream'); // a pure re-append
    const refused = store.append(tombstoned, [event()]);
    const outcomes = await Promise.allSettled([...fresh, stale, exact, again, refused]);

    const results = outcomes.slice(0, 12).map((outcome) => {
      if (outcome.status !== 'fulfilled') throw outcome.reason;
      return outcome.value;
    });
    for (const result of results) {
      expect(result.nextExpectedRevision).toBe(1n);
      expect(result.positions[1]).toBeGreaterThan(result.positions[0]);
    }
    expect(new Set(results.flatMap((result) => result.positions)).size).toBe(24);
    const [staleOutcome, exactOutcome, againOutcome, refusedOutcome] = outcomes.slice(12);
    expect(staleOutcome).toEqual({ status: 'rejected', reason: expect.any(ConcurrencyError) });
    expect(exactOutcome).toEqual({
      status: 'fulfilled',
      value: expect.objectContaining({ nextExpectedRevision: 1n }),
    });
    expect(againOutcome).toEqual({
      status: 'fulfilled',
      value: expect.objectContaining({ positions: [storedAt], duplicateEventIds: [stored.eventId] }),
    });
    expect(refusedOutcome).toEqual({ status: 'rejected', reason: expect.any(StreamTombstonedError) });
    const existingEvents = await store.readStream(existing);
    expect(existingEvents.map((e) => e.revision)).toEqual([0n, 1n]);
    expect(existingEvents[0].position).toBe(first);
  });

  it('concurrent appends to one stream keep call order', async () => {
    const streamId = `group-order-${randomUUID()}`;
    const events = Array.from({ length: 20 }, () => event());
    const results = await Promise.all(events.map((e) => store.append(streamId, [e])));
    expect(results.map((result) => result.nextExpectedRevision)).toEqual(events.map((_, n) => BigInt(n)));
    const read = await store.readStream(streamId);
    expect(read.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    expect(read.map((e) => e.position)).toEqual(results.map((result) => result.positions[0]));
  });

  it('writes a big batch with COPY: awkward text survives, positions follow input order, streams and checkpoints move', async () => {
    const run = randomUUID();
    const awkward = 'tab\there, newline\nthere, CR\r, backslash \\ and \\N, quote " and \u00e9\u2028';
    const appends = Array.from({ length: 4 }, (_, s) => ({
      streamId: `copy\\${s}\t-${run}`,
      events: Array.from({ length: 60 }, (_, n) => ({
        eventId: randomUUID(),
        type: `Type\\${awkward}`,
        data: { n, text: awkward, nested: { list: [awkward, null, 1.5] } },
        metadata: { lineage: awkward },
      })),
    }));
    const results = await store.appendMany(appends, { checkpoints: { [`copy-${run}`]: 'after' } });
    const positions = results.flatMap((result) => result.positions);
    expect(positions).toHaveLength(240); // more than FRESH_MAX_EVENTS: the full path, COPY
    expect(positions.every((p, i) => i === 0 || p > positions[i - 1])).toBe(true);
    for (const [s, append] of appends.entries()) {
      const read = await store.readStream(append.streamId);
      expect(results[s].nextExpectedRevision).toBe(59n);
      expect(
        read.map((e) => ({ eventId: e.eventId, type: e.type, data: e.data, metadata: e.metadata })),
      ).toEqual(append.events);
    }
    expect(await store.readCheckpoint(`copy-${run}`)).toBe('after');
    // A retry of the whole batch is a re-append: the original positions, nothing new.
    const retried = await store.appendMany(appends);
    expect(retried.flatMap((result) => result.positions)).toEqual(positions);
    expect(retried.flatMap((result) => result.duplicateEventIds)).toHaveLength(240);
  });

  it('stores data and metadata as json text (migration 003), still read back as values', async () => {
    const streamId = `json-${randomUUID()}`;
    await store.append(streamId, [{ ...event(), data: { b: 1, a: [true, null] }, metadata: { z: 'y' } }]);
    const types = await admin.query(
      `SELECT data::text AS data, pg_typeof(data)::text AS data_type, pg_typeof(metadata)::text AS metadata_type
       FROM events WHERE stream_id = $1`,
      [streamId],
    );
    expect(types.rows).toEqual([
      { data: '{"b":1,"a":[true,null]}', data_type: 'json', metadata_type: 'json' },
    ]);
    expect((await store.readStream(streamId))[0]).toEqual(
      expect.objectContaining({ data: { b: 1, a: [true, null] }, metadata: { z: 'y' } }),
    );
  });

  it('leaves a pool it was given open on close', async () => {
    const pool = createPool(database.url, { max: 2 });
    const borrowed = await PostgresEventStore.create({ connectionString: database.url, pool });
    await borrowed.close();
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await pool.end();
  });

  it('a subscription relistens after its LISTEN connection drops', async () => {
    // A long idle poll: only a working NOTIFY can deliver within the wait below.
    const channel = `tl_relisten_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
    const quiet = await PostgresEventStore.create({
      connectionString: database.url,
      notifyChannel: channel,
      idlePollMs: 60000,
    });
    const listeners = async () =>
      (
        await admin.query<{ pid: number }>(
          'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = $1',
          [`LISTEN ${channel}`],
        )
      ).rows.map((row) => row.pid);
    const seen: RecordedEvent[] = [];
    const subscription = quiet.subscribeToAll(async (batch) => void seen.push(...batch), {
      after: await quiet.headPosition(),
    });
    try {
      await waitFor(async () => (await listeners()).length === 1, { message: 'the LISTEN connection' });
      const [firstListener] = await listeners();
      await quiet.append(`relisten-${randomUUID()}`, [event()]);
      await waitFor(() => seen.length === 1, { timeoutMs: 10000, message: 'delivery by NOTIFY' });

      await admin.query('SELECT pg_terminate_backend($1)', [firstListener]);
      await waitFor(async () => (await listeners()).some((pid) => pid !== firstListener), {
        timeoutMs: 10000,
        message: 'a new LISTEN connection',
      });
      await quiet.append(`relisten-${randomUUID()}`, [event()]);
      await waitFor(() => seen.length === 2, { timeoutMs: 10000, message: 'delivery after relisten' });
    } finally {
      await subscription.stop();
      await quiet.close();
    }
    await subscription.finished;
    expect(await listeners()).toEqual([]);
  });

  it('close() stops the subscriptions it started', async () => {
    const closing = await PostgresEventStore.create({ connectionString: database.url });
    const subscription = closing.subscribeToAll(async () => undefined, {
      after: await closing.headPosition(),
    });
    await closing.close();
    await expect(subscription.finished).resolves.toBeUndefined();
  });
});

describe('PostgresEventStore bulk appends (more than FRESH_MAX_EVENTS events)', () => {
  let store: PostgresEventStore;
  let pool: ReturnType<typeof createPool>;
  let admin: Client;
  /** The text of every statement the store's connections were sent, COPY included. */
  let statements: string[] = [];

  beforeAll(async () => {
    pool = createPool(database.url, { max: 2 });
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      client.query = ((...args: unknown[]) => {
        const [first] = args;
        statements.push(typeof first === 'string' ? first : String((first as { text?: string }).text));
        return query(...args);
      }) as typeof client.query;
    });
    store = await PostgresEventStore.create({ connectionString: database.url, pool });
    admin = new Client({ connectionString: database.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await store?.close();
    await pool?.end();
  });
  beforeEach(() => {
    statements = [];
  });

  const event = (n: number) => ({ eventId: randomUUID(), type: 'ThingHappened', data: { n } });
  const events = (count: number) => Array.from({ length: count }, (_, n) => event(n));
  const took = (name: string) => statements.some((text) => text.includes(name));
  const stored = async (streamIds: string[]) =>
    Number(
      (await admin.query('SELECT count(*) AS n FROM events WHERE stream_id = ANY ($1)', [streamIds])).rows[0]
        .n,
    );

  it('writes new events with one COPY, without looking their ids up: positions in input order, revisions continue', async () => {
    const run = randomUUID();
    const existing = `bulk-existing-${run}`;
    await store.append(existing, events(2));
    const appends: StreamAppend[] = [
      { streamId: `bulk-a-${run}`, events: events(150), expectedRevision: 'no_stream' },
      { streamId: existing, events: events(100), expectedRevision: 1n },
      { streamId: `bulk-a-${run}`, events: events(50), expectedRevision: 149n }, // the same stream again
    ];
    statements = [];
    const results = await store.appendMany(appends, { checkpoints: { [`bulk-${run}`]: 'done' } });

    expect(took('event_store_lock_streams')).toBe(true);
    expect(took('COPY events')).toBe(true);
    expect(took('event_store_lock_and_lookup')).toBe(false);
    expect(took('event_store_append_fresh')).toBe(false);
    expect(results.map((result) => result.nextExpectedRevision)).toEqual([149n, 101n, 199n]);
    expect(results.every((result) => result.duplicateEventIds.length === 0)).toBe(true);
    const positions = results.flatMap((result) => result.positions);
    expect(positions).toHaveLength(300);
    expect(positions.every((p, i) => i === 0 || p === positions[i - 1] + 1n)).toBe(true);

    const read = [
      ...(await store.readStream(`bulk-a-${run}`, { maxCount: 1000 })),
      ...(await store.readStream(existing, { maxCount: 1000 })),
    ];
    const byId = new Map(read.map((e) => [e.eventId, e]));
    appends.forEach((append, a) =>
      append.events.forEach((e, n) => {
        expect(byId.get(e.eventId)?.position).toBe(results[a].positions[n]);
        expect(byId.get(e.eventId)?.data).toEqual(e.data);
      }),
    );
    expect((await store.readStream(existing)).map((e) => e.revision)).toEqual(
      Array.from({ length: 102 }, (_, n) => BigInt(n)),
    );
    const streams = await admin.query('SELECT stream_id, revision FROM streams WHERE stream_id = ANY ($1)', [
      [`bulk-a-${run}`, existing],
    ]);
    expect(
      new Map(
        streams.rows.map((row: { stream_id: string; revision: string }) => [row.stream_id, row.revision]),
      ),
    ).toEqual(
      new Map([
        [`bulk-a-${run}`, '199'],
        [existing, '101'],
      ]),
    );
    expect(await store.readCheckpoint(`bulk-${run}`)).toBe('done');
  });

  it('notifies subscribers at commit', async () => {
    const streamId = `bulk-notify-${randomUUID()}`;
    const head = await store.headPosition();
    const seen: bigint[] = [];
    const subscription = store.subscribeToAll(
      async (batch) => {
        for (const e of batch) if (e.streamId === streamId) seen.push(e.position);
      },
      { after: head },
    );
    try {
      const [result] = await store.appendMany([{ streamId, events: events(250) }]);
      await waitFor(() => seen.length === 250, { timeoutMs: 10_000 });
      expect(seen).toEqual(result.positions);
    } finally {
      await subscription.stop();
    }
  });

  it('a batch holding a stored id takes the full path: the duplicate listed at its position, the rest written', async () => {
    const streamId = `bulk-retry-${randomUUID()}`;
    const first = events(220);
    const [original] = await store.appendMany([{ streamId, events: first }]);
    const more = events(30);
    statements = [];
    const [result] = await store.appendMany([{ streamId, events: [...first, ...more] }]);
    expect(took('COPY events')).toBe(true); // tried, refused by the unique index
    expect(took('event_store_lock_and_lookup')).toBe(true);
    expect(result.duplicateEventIds).toEqual(first.map((e) => e.eventId));
    expect(result.positions.slice(0, 220)).toEqual(original.positions);
    expect(result.positions[220]).toBeGreaterThan(original.positions[219]);
    expect(result.nextExpectedRevision).toBe(249n);
    expect(await stored([streamId])).toBe(250);
  });

  it('a batch naming an id twice is refused by the unique index and takes the full path: stored once', async () => {
    const streamId = `bulk-twice-${randomUUID()}`;
    const batch = events(250);
    batch[240] = {
      ...batch[10],
      eventId: batch[10].eventId.toUpperCase() as `${string}-${string}-${string}-${string}-${string}`,
    }; // the same uuid, spelt otherwise
    const [result] = await store.appendMany([{ streamId, events: batch }]);
    expect(took('event_store_lock_streams')).toBe(true); // the bulk path tried, then the full path
    expect(took('event_store_lock_and_lookup')).toBe(true);
    expect(result.positions[240]).toBe(result.positions[10]);
    expect(result.duplicateEventIds).toEqual([batch[240].eventId]);
    expect(result.nextExpectedRevision).toBe(248n);
    expect(await stored([streamId])).toBe(249);
  });

  it('runs alone: calls issued before a bulk call are written before it, calls issued after it after it', async () => {
    const run = randomUUID();
    const before = Array.from({ length: 5 }, (_, n) => store.append(`bulk-before-${n}-${run}`, events(2)));
    const bulk = store.appendMany([{ streamId: `bulk-alone-${run}`, events: events(250) }]);
    const after = Array.from({ length: 5 }, (_, n) => store.append(`bulk-after-${n}-${run}`, events(2)));
    const [early, [alone], late] = await Promise.all([Promise.all(before), bulk, Promise.all(after)]);
    const positions = (results: readonly { positions: readonly bigint[] }[]) =>
      results.flatMap((result) => result.positions);
    const max = (list: readonly bigint[]) => list.reduce((top, p) => (p > top ? p : top));
    const min = (list: readonly bigint[]) => list.reduce((low, p) => (p < low ? p : low));
    expect(max(positions(early))).toBeLessThan(min(alone.positions));
    expect(max(alone.positions)).toBeLessThan(min(positions(late)));
  });

  it('refuses a conflicting re-append, a stale expectation and a tombstoned stream, writing nothing', async () => {
    const run = randomUUID();
    const streamId = `bulk-refused-${run}`;
    const [kept] = events(1);
    await store.append(streamId, [kept]);
    const fresh = `bulk-refused-fresh-${run}`;
    const tombstoned = `bulk-refused-tombstoned-${run}`;
    await store.append(tombstoned, events(1));
    await store.tombstoneStream(tombstoned);

    await expect(
      store.appendMany([
        { streamId: fresh, events: events(250) },
        { streamId, events: [{ ...kept, data: { n: 'changed' } }] },
      ]),
    ).rejects.toThrow(EventIdConflictError);
    await expect(
      store.appendMany([
        { streamId: fresh, events: events(250) },
        { streamId, events: events(1), expectedRevision: 5n },
      ]),
    ).rejects.toThrow(ConcurrencyError);
    await expect(
      store.appendMany([
        { streamId: fresh, events: events(250) },
        { streamId: tombstoned, events: events(1) },
      ]),
    ).rejects.toThrow(StreamTombstonedError);
    expect(await stored([fresh, streamId])).toBe(1);
  });

  it('refuses a payload that is not JSON, naming it, also when it is serialised mid-COPY', async () => {
    const streamId = `bulk-bad-${randomUUID()}`;
    const batch = events(300);
    batch[260] = { ...batch[260], data: { n: 10n } as unknown as { n: number } };
    const refused = store.appendMany([{ streamId, events: batch }]);
    await expect(refused).rejects.toThrow(ValidationError);
    await expect(refused).rejects.toMatchObject({
      issues: [expect.objectContaining({ path: 'appends.0.events.260.data', rule: 'json' })],
    });
    expect(await stored([streamId])).toBe(0);
    // The store goes on working (the aborted COPY's connection was closed, not reused).
    const [result] = await store.appendMany([{ streamId, events: events(210) }]);
    expect(result.nextExpectedRevision).toBe(209n);
  });

  it('reads the positions back when something drew from the sequence out of step (here: an increment of 3)', async () => {
    const streamId = `bulk-step-${randomUUID()}`;
    await admin.query('ALTER SEQUENCE events_position_seq INCREMENT BY 3');
    try {
      const [result] = await store.appendMany([{ streamId, events: events(210) }]);
      const read = await store.readStream(streamId, { maxCount: 1000 });
      expect(result.positions).toEqual(read.map((e) => e.position));
      expect(result.positions[1] - result.positions[0]).toBe(3n);
    } finally {
      await admin.query('ALTER SEQUENCE events_position_seq INCREMENT BY 1');
    }
  });

  it('is taken only above FRESH_MAX_EVENTS', async () => {
    await store.appendMany([{ streamId: `bulk-small-${randomUUID()}`, events: events(FRESH_MAX_EVENTS) }]);
    expect(took('event_store_append_fresh')).toBe(true);
    expect(took('event_store_lock_streams')).toBe(false);
  });
});
