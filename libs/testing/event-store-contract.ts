/// <reference types="jest" />
import { randomUUID } from 'node:crypto';
// describe, it, expect, beforeAll and afterAll are jest's globals: importing @jest/globals would make
// this module fail to load outside jest, and the benchmark loads @throughline/testing for its OpenID provider.
import { ConcurrencyError, ThroughlineError, ValidationError } from '@throughline/platform';
import {
  EventIdConflictError,
  StreamTombstonedError,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type RecordedEvent,
} from '@throughline/event-store';
import { waitFor } from './database';

/**
 * The behaviour every EventStore adapter must show. The store is shared by all cases (a
 * real server cannot be reset per test), so each case uses fresh stream ids and reads the
 * global order relative to the head it saw first.
 */
export function describeEventStoreContract(
  name: string,
  makeStore: () => Promise<{ store: EventStore; cleanup(): Promise<void> }>,
): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterAll(async () => {
      await cleanup?.();
    });

    const streamName = (category = 'contract') => `${category}-${randomUUID()}`;
    const event = (type = 'ThingHappened', data: unknown = { n: 1 }): EventToAppend => ({
      eventId: randomUUID(),
      type,
      data,
      metadata: { source: 'contract-suite' },
    });
    const events = (count: number) =>
      Array.from({ length: count }, (_, i) => event('ThingHappened', { n: i }));

    /** A fresh category name (no dash), so a category read sees only this case's streams. */
    const categoryName = () => `cat${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const caught = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: unknown) => error,
      );

    async function expectTombstoned(promise: Promise<unknown>, streamId: string) {
      const error = await caught(promise);
      expect(error).toBeInstanceOf(StreamTombstonedError);
      expect((error as StreamTombstonedError).streamId).toBe(streamId);
      expect((error as StreamTombstonedError).code).toBe('ILLEGAL_STATE');
      expect((error as Error).message).toContain(streamId);
    }

    async function expectConcurrencyError(
      promise: Promise<unknown>,
      streamId: string,
      expected: string,
      actual: string,
    ) {
      const error = await promise.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ConcurrencyError);
      const concurrency = error as ConcurrencyError;
      expect(concurrency.code).toBe('CONCURRENCY');
      expect(concurrency.retriable).toBe(true);
      expect({
        streamId: concurrency.streamId,
        expected: concurrency.expected,
        actual: concurrency.actual,
      }).toEqual({
        streamId,
        expected,
        actual,
      });
    }

    describe('append', () => {
      it('stores events and reads them back as recorded', async () => {
        const streamId = streamName('health');
        const first = event('ChildRegistered', { nhsNumber: '9434765919', name: 'Synthetic Child' });
        const second = { eventId: randomUUID(), type: 'VisitRecorded', data: [1, 'two', null] };

        const result = await store.append(streamId, [first, second], 'no_stream');

        expect(result.streamId).toBe(streamId);
        expect(result.nextExpectedRevision).toBe(1n);
        expect(result.duplicateEventIds).toEqual([]);
        expect(result.positions).toHaveLength(2);
        expect(result.positions[1]).toBeGreaterThan(result.positions[0]);

        const read = await store.readStream(streamId);
        expect(read.map((e) => [e.eventId, e.streamId, e.revision, e.position, e.type])).toEqual([
          [first.eventId, streamId, 0n, result.positions[0], 'ChildRegistered'],
          [second.eventId, streamId, 1n, result.positions[1], 'VisitRecorded'],
        ]);
        expect(read[0].data).toEqual(first.data);
        expect(read[0].metadata).toEqual({ source: 'contract-suite' });
        expect(read[1].data).toEqual([1, 'two', null]);
        expect(read[1].metadata).toEqual({});
        expect(read[0].recordedAt).toBeInstanceOf(Date);
      });

      it('reads an unknown stream as empty', async () => {
        expect(await store.readStream(streamName())).toEqual([]);
      });

      it("accepts 'any' whether or not the stream exists", async () => {
        const streamId = streamName();
        expect((await store.append(streamId, [event()], 'any')).nextExpectedRevision).toBe(0n);
        expect((await store.append(streamId, [event()])).nextExpectedRevision).toBe(1n);
      });

      it("'no_stream' succeeds on a new stream and fails once it exists", async () => {
        const streamId = streamName();
        await store.append(streamId, [event(), event()], 'no_stream');
        await expectConcurrencyError(
          store.append(streamId, [event()], 'no_stream'),
          streamId,
          'no_stream',
          '1',
        );
        expect(await store.readStream(streamId)).toHaveLength(2);
      });

      it("'stream_exists' fails on a new stream and succeeds once it exists", async () => {
        const streamId = streamName();
        await expectConcurrencyError(
          store.append(streamId, [event()], 'stream_exists'),
          streamId,
          'stream_exists',
          'no_stream',
        );
        expect(await store.readStream(streamId)).toEqual([]);
        await store.append(streamId, [event()]);
        expect((await store.append(streamId, [event()], 'stream_exists')).nextExpectedRevision).toBe(1n);
      });

      it('an exact revision must match the last revision in the stream', async () => {
        const streamId = streamName();
        await expectConcurrencyError(store.append(streamId, [event()], 0n), streamId, '0', 'no_stream');
        await store.append(streamId, [event()], 'no_stream');
        const result = await store.append(streamId, [event(), event()], 0n);
        expect(result.nextExpectedRevision).toBe(2n);
        await expectConcurrencyError(store.append(streamId, [event()], 1n), streamId, '1', '2');
        expect((await store.append(streamId, [event()], 2n)).nextExpectedRevision).toBe(3n);
        expect((await store.readStream(streamId)).map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n]);
      });

      it('rejects malformed events with the field and the rule', async () => {
        const error = await store
          .append(streamName(), [{ eventId: 'not-a-uuid', type: 'ThingHappened', data: {} }])
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues).toEqual([
          expect.objectContaining({ path: expect.stringMatching(/events\.0\.eventId$/), rule: 'uuid' }),
        ]);
      });
    });

    describe('idempotency', () => {
      it('a re-append returns the original positions and stores nothing new', async () => {
        const streamId = streamName();
        const batch = events(3);
        const original = await store.append(streamId, batch, 'no_stream');
        const head = await store.headPosition();

        // The same expectation again: a retry of an append that committed succeeds.
        const again = await store.append(streamId, batch, 'no_stream');

        expect(again.positions).toEqual(original.positions);
        expect(again.duplicateEventIds).toEqual(batch.map((e) => e.eventId));
        expect(again.nextExpectedRevision).toBe(2n);
        expect(await store.headPosition()).toBe(head);
        expect(await store.readStream(streamId)).toHaveLength(3);
      });

      it('a partly repeated batch stores only the new events', async () => {
        const streamId = streamName();
        const [a, b, c] = events(3);
        const first = await store.append(streamId, [a, b]);
        const second = await store.append(streamId, [b, c]);

        expect(second.duplicateEventIds).toEqual([b.eventId]);
        expect(second.positions[0]).toBe(first.positions[1]);
        expect(second.positions[1]).toBeGreaterThan(first.positions[1]);
        expect((await store.readStream(streamId)).map((e) => e.eventId)).toEqual([
          a.eventId,
          b.eventId,
          c.eventId,
        ]);
      });

      it('an id repeated within one append is stored once', async () => {
        const streamId = streamName();
        const a = event();
        const result = await store.append(streamId, [a, a]);
        expect(result.positions[0]).toBe(result.positions[1]);
        expect(result.duplicateEventIds).toEqual([a.eventId]);
        expect(await store.readStream(streamId)).toHaveLength(1);
      });

      it.each<[string, (last: bigint) => ExpectedRevision]>([
        ['any', () => 'any'],
        ['stream_exists', () => 'stream_exists'],
        ['the original exact revision', () => -1n],
        ['a stale exact revision', (last) => last - 1n],
      ])('a pure re-append succeeds with %s, after later appends too', async (_name, expectation) => {
        const streamId = streamName();
        const batch = events(2);
        const original = await store.append(streamId, batch, 'no_stream');
        const later = await store.append(streamId, events(1), 1n);
        const head = await store.headPosition();

        const again = await store.append(streamId, batch, expectation(later.nextExpectedRevision));

        expect(again.positions).toEqual(original.positions);
        expect(again.duplicateEventIds).toEqual(batch.map((e) => e.eventId));
        expect(again.nextExpectedRevision).toBe(2n);
        expect(await store.headPosition()).toBe(head);
        expect((await store.readStream(streamId)).map((e) => e.eventId)).toEqual([
          ...batch.map((e) => e.eventId),
          expect.any(String),
        ]);
      });

      it.each<[string, (original: EventToAppend) => EventToAppend, boolean, string[]]>([
        ['type', (original) => ({ ...original, type: 'OtherThingHappened' }), false, ['type']],
        ['data', (original) => ({ ...original, data: { n: 2 } }), false, ['data']],
        ['type and data', (original) => ({ ...original, type: 'Other', data: [] }), false, ['type', 'data']],
        [
          'metadata (compareMetadata)',
          (original) => ({ ...original, metadata: { source: 'elsewhere' } }),
          true,
          ['metadata'],
        ],
        [
          'missing metadata (compareMetadata)',
          (original) => ({ ...original, metadata: undefined }),
          true,
          ['metadata'],
        ],
      ])(
        'refuses the same id with a different %s, storing nothing from the append',
        async (_field, change, compareMetadata, differing) => {
          const streamId = streamName();
          const original = event('ThingHappened', { n: 1 });
          await store.append(streamId, [original]);
          const head = await store.headPosition();

          const error = await caught(
            store.appendMany([{ streamId, events: [change(original), event()] }], { compareMetadata }),
          );

          expect(error).toBeInstanceOf(EventIdConflictError);
          const conflict = error as EventIdConflictError;
          expect([conflict.code, conflict.retriable, conflict.streamId, conflict.eventId]).toEqual([
            'ILLEGAL_STATE',
            false,
            streamId,
            original.eventId,
          ]);
          expect(conflict.differingFields).toEqual(differing);
          expect(conflict.message).toContain(original.eventId);
          expect(await store.headPosition()).toBe(head);
          const [stored, ...rest] = await store.readStream(streamId);
          expect(rest).toEqual([]);
          expect([stored.type, stored.data, stored.metadata]).toEqual([
            'ThingHappened',
            { n: 1 },
            { source: 'contract-suite' },
          ]);
        },
      );

      it('by default keeps the first metadata when only metadata differs (a republished event)', async () => {
        const streamId = streamName();
        const original = event();
        const first = await store.append(streamId, [original]);
        const again = await store.append(streamId, [{ ...original, metadata: { source: 'redelivery' } }]);
        expect(again.positions).toEqual(first.positions);
        expect(again.duplicateEventIds).toEqual([original.eventId]);
        expect((await store.readStream(streamId))[0].metadata).toEqual({ source: 'contract-suite' });
      });

      it('treats the same JSON with keys in another order as the same event', async () => {
        const streamId = streamName();
        const original = { eventId: randomUUID(), type: 'ThingHappened', data: { a: 1, b: { c: 2, d: 3 } } };
        const first = await store.append(streamId, [original]);
        const again = await store.append(streamId, [{ ...original, data: { b: { d: 3, c: 2 }, a: 1 } }]);
        expect(again.positions).toEqual(first.positions);
        expect(again.duplicateEventIds).toEqual([original.eventId]);
      });

      it('refuses an id already stored in another stream, naming the id', async () => {
        const a = event();
        const otherStream = streamName();
        await store.append(streamName(), [a]);
        const error = await store.append(otherStream, [event(), a]).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(ThroughlineError);
        expect(['ILLEGAL_STATE', 'VALIDATION']).toContain((error as ThroughlineError).code);
        expect((error as Error).message).toContain(a.eventId);
        expect(await store.readStream(otherStream)).toEqual([]);
      });
    });

    describe('appendMany', () => {
      it('writes several streams and the checkpoints in one go', async () => {
        const [s1, s2] = [streamName(), streamName()];
        const checkpoint = `contract-${randomUUID()}`;
        const results = await store.appendMany(
          [
            { streamId: s1, events: events(2), expectedRevision: 'no_stream' },
            { streamId: s2, events: events(1) },
          ],
          { checkpoints: { [checkpoint]: 'topic:0:41' } },
        );
        expect(results.map((r) => [r.streamId, r.nextExpectedRevision])).toEqual([
          [s1, 1n],
          [s2, 0n],
        ]);
        expect(await store.readCheckpoint(checkpoint)).toBe('topic:0:41');

        await store.appendMany([{ streamId: s2, events: events(1), expectedRevision: 0n }], {
          checkpoints: { [checkpoint]: 'topic:0:42' },
        });
        expect(await store.readCheckpoint(checkpoint)).toBe('topic:0:42');
        expect(await store.readCheckpoint(`contract-${randomUUID()}`)).toBeUndefined();
      });

      it('is all or nothing: one failed expectation stores nothing anywhere', async () => {
        const [good, bad] = [streamName(), streamName()];
        const checkpoint = `contract-${randomUUID()}`;
        await store.append(bad, events(1));
        const head = await store.headPosition();

        await expectConcurrencyError(
          store.appendMany(
            [
              { streamId: good, events: events(2), expectedRevision: 'no_stream' },
              { streamId: bad, events: events(1), expectedRevision: 5n },
            ],
            { checkpoints: { [checkpoint]: 'should-not-exist' } },
          ),
          bad,
          '5',
          '0',
        );

        expect(await store.readStream(good)).toEqual([]);
        expect(await store.readStream(bad)).toHaveLength(1);
        expect(await store.readCheckpoint(checkpoint)).toBeUndefined();
        expect(await store.headPosition()).toBe(head);
      });

      it('checks a stream named twice against its own earlier events', async () => {
        const streamId = streamName();
        const results = await store.appendMany([
          { streamId, events: events(1), expectedRevision: 'no_stream' },
          { streamId, events: events(1), expectedRevision: 0n },
        ]);
        expect(results.map((r) => r.nextExpectedRevision)).toEqual([0n, 1n]);
      });
    });

    describe('readStream', () => {
      let streamId: string;
      beforeAll(async () => {
        streamId = streamName();
        await store.append(streamId, events(5));
      });
      const revisions = (read: RecordedEvent[]) => read.map((e) => e.revision);

      it('reads forwards from a revision, at most maxCount', async () => {
        expect(revisions(await store.readStream(streamId, { fromRevision: 2n }))).toEqual([2n, 3n, 4n]);
        expect(revisions(await store.readStream(streamId, { fromRevision: 1n, maxCount: 2 }))).toEqual([
          1n,
          2n,
        ]);
        expect(await store.readStream(streamId, { fromRevision: 5n })).toEqual([]);
      });

      it('reads backwards from the end or from a revision', async () => {
        expect(revisions(await store.readStream(streamId, { direction: 'backwards' }))).toEqual([
          4n,
          3n,
          2n,
          1n,
          0n,
        ]);
        expect(revisions(await store.readStream(streamId, { direction: 'backwards', maxCount: 2 }))).toEqual([
          4n,
          3n,
        ]);
        expect(
          revisions(
            await store.readStream(streamId, { direction: 'backwards', fromRevision: 2n, maxCount: 2 }),
          ),
        ).toEqual([2n, 1n]);
      });
    });

    describe('readAll', () => {
      it('reads in position order after an exclusive position, at most maxCount', async () => {
        const head = await store.headPosition();
        const [s1, s2] = [streamName(), streamName()];
        const r1 = await store.append(s1, events(2));
        const r2 = await store.append(s2, events(2));
        const r3 = await store.append(s1, events(1));
        const written = [...r1.positions, ...r2.positions, ...r3.positions];

        const all = await store.readAll({ after: head });
        expect(all.map((e) => e.position)).toEqual(written);
        expect(all.map((e) => e.streamId)).toEqual([s1, s1, s2, s2, s1]);
        expect(await store.headPosition()).toBe(written[4]);

        expect((await store.readAll({ after: written[1], maxCount: 2 })).map((e) => e.position)).toEqual(
          written.slice(2, 4),
        );
        expect(await store.readAll({ after: written[4] })).toEqual([]);
      });
    });

    describe('readCategory', () => {
      it('reads the streams `<category>-…` in global order, after an exclusive position, at most maxCount', async () => {
        const category = categoryName();
        const head = await store.headPosition();
        const r1 = await store.append(`${category}-one`, events(2));
        await store.append(`${category}x-other`, events(1)); // another category sharing the prefix
        await store.append(category, events(1)); // no dash: in no category
        const r2 = await store.append(`${category}-two`, events(1));
        const r3 = await store.append(`${category}-one`, events(1));
        const written = [...r1.positions, ...r2.positions, ...r3.positions];

        const all = await store.readCategory(category, { after: head });
        expect(all.map((e) => e.position)).toEqual(written);
        expect(all.map((e) => e.streamId)).toEqual([
          `${category}-one`,
          `${category}-one`,
          `${category}-two`,
          `${category}-one`,
        ]);
        expect((await store.readCategory(category)).map((e) => e.position)).toEqual(written);
        expect(
          (await store.readCategory(category, { after: written[0], maxCount: 2 })).map((e) => e.position),
        ).toEqual(written.slice(1, 3));
        expect(await store.readCategory(category, { after: written[3] })).toEqual([]);
      });

      it('rejects a category with a dash, naming the field', async () => {
        const error = await caught(store.readCategory('health-RX1'));
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues).toEqual([expect.objectContaining({ path: 'category' })]);
      });
    });

    describe('readByType', () => {
      it('reads one type across streams in global order, after an exclusive position, at most maxCount', async () => {
        const type = `Checked${randomUUID().replace(/-/g, '')}`;
        const r1 = await store.append(streamName(), [event(type), event(), event(type)]);
        const r2 = await store.append(streamName(), [event(type)]);
        const written = [r1.positions[0], r1.positions[2], r2.positions[0]];

        const read = await store.readByType(type);
        expect(read.map((e) => e.position)).toEqual(written);
        expect(read.every((e) => e.type === type)).toBe(true);
        expect(
          (await store.readByType(type, { after: written[0], maxCount: 1 })).map((e) => e.position),
        ).toEqual([written[1]]);
        expect(await store.readByType(type, { after: written[2] })).toEqual([]);
      });
    });

    describe('stream metadata', () => {
      const revisions = (read: RecordedEvent[]) => read.map((e) => e.revision);

      it('reads back what was set; setting replaces the whole document', async () => {
        const streamId = streamName();
        expect(await store.getStreamMetadata(streamId)).toEqual({});
        await store.setStreamMetadata(streamId, {
          maxCount: 10,
          truncateBefore: 2n,
          custom: { owner: 'contract' },
        });
        expect(await store.getStreamMetadata(streamId)).toEqual({
          maxCount: 10,
          truncateBefore: 2n,
          custom: { owner: 'contract' },
        });
        await store.setStreamMetadata(streamId, { maxAge: 3600 });
        expect(await store.getStreamMetadata(streamId)).toEqual({ maxAge: 3600 });
      });

      it('refuses the reserved encryption key and unknown keys, naming them', async () => {
        const error = await caught(
          store.setStreamMetadata(streamName(), {
            encryption: { keyId: 'k-1', algorithm: 'aes-256-gcm' },
          } as never),
        );
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues).toEqual([
          expect.objectContaining({ path: 'metadata.encryption', rule: 'reserved' }),
        ]);
        const unknown = await caught(store.setStreamMetadata(streamName(), { maxCount: 0 }));
        expect((unknown as ValidationError).issues).toEqual([
          expect.objectContaining({ path: 'metadata.maxCount', rule: 'positive_integer' }),
        ]);
      });

      it('maxCount: reads return only the last events, forwards, backwards and by category', async () => {
        const category = categoryName();
        const streamId = `${category}-counted`;
        await store.append(streamId, events(5));
        await store.setStreamMetadata(streamId, { maxCount: 2 });
        expect(revisions(await store.readStream(streamId))).toEqual([3n, 4n]);
        expect(revisions(await store.readStream(streamId, { direction: 'backwards' }))).toEqual([4n, 3n]);
        expect(revisions(await store.readStream(streamId, { fromRevision: 1n, maxCount: 1 }))).toEqual([3n]);
        expect(revisions(await store.readCategory(category))).toEqual([3n, 4n]);
        await store.append(streamId, events(1));
        expect(revisions(await store.readStream(streamId))).toEqual([4n, 5n]);
      });

      it('truncateBefore: reads start at that revision', async () => {
        const streamId = streamName();
        await store.append(streamId, events(5));
        await store.setStreamMetadata(streamId, { truncateBefore: 3n });
        expect(revisions(await store.readStream(streamId))).toEqual([3n, 4n]);
        expect(
          revisions(await store.readStream(streamId, { direction: 'backwards', fromRevision: 3n })),
        ).toEqual([3n]);
        await store.setStreamMetadata(streamId, {});
        expect(revisions(await store.readStream(streamId))).toEqual([0n, 1n, 2n, 3n, 4n]);
      });

      it('maxAge: events recorded longer ago are not read', async () => {
        const category = categoryName();
        const streamId = `${category}-aged`;
        await store.append(streamId, events(2));
        await store.setStreamMetadata(streamId, { maxAge: 1 });
        expect(revisions(await store.readStream(streamId))).toEqual([0n, 1n]);
        await waitFor(async () => (await store.readStream(streamId)).length === 0, {
          timeoutMs: 10000,
          message: 'events older than maxAge hidden',
        });
        const fresh = await store.append(streamId, events(1));
        expect(revisions(await store.readStream(streamId))).toEqual([2n]);
        expect((await store.readCategory(category)).map((e) => e.position)).toEqual(fresh.positions);
        await store.setStreamMetadata(streamId, { maxAge: 3600 });
        expect(revisions(await store.readStream(streamId))).toEqual([0n, 1n, 2n]);
      });

      it('readAll ignores stream metadata (as $all does)', async () => {
        const head = await store.headPosition();
        const streamId = streamName();
        const written = await store.append(streamId, events(3));
        await store.setStreamMetadata(streamId, { maxCount: 1 });
        expect((await store.readAll({ after: head })).map((e) => e.position)).toEqual(written.positions);
      });
    });

    describe('deleteStream (soft delete)', () => {
      it('reads answer as if empty; a later append reopens it and revisions continue', async () => {
        const category = categoryName();
        const streamId = `${category}-deleted`;
        const type = `Deleted${randomUUID().replace(/-/g, '')}`;
        const head = await store.headPosition();
        const before = await store.append(streamId, [event(type), event(type), event(type)]);

        await store.deleteStream(streamId);

        expect(await store.readStream(streamId)).toEqual([]);
        expect(await store.readStream(streamId, { direction: 'backwards' })).toEqual([]);
        expect(await store.readCategory(category)).toEqual([]);
        expect(await store.readByType(type)).toEqual([]);
        expect((await store.getStreamMetadata(streamId)).truncateBefore).toBe(3n);
        // The events are still recorded: readAll sees them.
        expect((await store.readAll({ after: head })).map((e) => e.position)).toEqual(before.positions);

        const reopened = await store.append(streamId, [event(type)], 'any');
        expect(reopened.nextExpectedRevision).toBe(3n);
        const read = await store.readStream(streamId);
        expect(read.map((e) => [e.revision, e.position])).toEqual([[3n, reopened.positions[0]]]);
        expect((await store.readCategory(category)).map((e) => e.position)).toEqual(reopened.positions);
        expect((await store.readByType(type)).map((e) => e.position)).toEqual(reopened.positions);
      });

      it('checks the expected revision', async () => {
        const streamId = streamName();
        await store.append(streamId, events(2));
        await expectConcurrencyError(store.deleteStream(streamId, 0n), streamId, '0', '1');
        expect(await store.readStream(streamId)).toHaveLength(2);
        await store.deleteStream(streamId, 1n);
        expect(await store.readStream(streamId)).toEqual([]);
      });
    });

    describe('tombstoneStream (hard delete)', () => {
      it('reads, appends and metadata changes then fail with an error naming the stream', async () => {
        const category = categoryName();
        const streamId = `${category}-gone`;
        const head = await store.headPosition();
        const written = await store.append(streamId, events(2));

        await store.tombstoneStream(streamId);

        await expectTombstoned(store.readStream(streamId), streamId);
        await expectTombstoned(store.readStream(streamId, { direction: 'backwards' }), streamId);
        await expectTombstoned(store.append(streamId, events(1)), streamId);
        await expectTombstoned(store.append(streamId, events(1), 'no_stream'), streamId);
        await expectTombstoned(store.getStreamMetadata(streamId), streamId);
        await expectTombstoned(store.setStreamMetadata(streamId, { maxCount: 1 }), streamId);
        await expectTombstoned(store.deleteStream(streamId), streamId);
        await expectTombstoned(store.tombstoneStream(streamId), streamId);
        expect(await store.readCategory(category)).toEqual([]);
        // Recorded events are never removed: readAll still has them.
        expect((await store.readAll({ after: head })).map((e) => e.position)).toEqual(written.positions);
      });

      it('fails a multi-stream append that names a tombstoned stream, storing nothing', async () => {
        const [live, gone] = [streamName(), streamName()];
        await store.append(gone, events(1));
        await store.tombstoneStream(gone, 0n);
        const head = await store.headPosition();
        await expectTombstoned(
          store.appendMany([
            { streamId: live, events: events(1) },
            { streamId: gone, events: events(1) },
          ]),
          gone,
        );
        expect(await store.readStream(live)).toEqual([]);
        expect(await store.headPosition()).toBe(head);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up, then delivers live events exactly once and in order', async () => {
        const head = await store.headPosition();
        const streamId = streamName();
        const before = await store.append(streamId, events(5));
        const seen: RecordedEvent[] = [];
        const batchSizes: number[] = [];
        const subscription = store.subscribeToAll(
          async (batch) => {
            batchSizes.push(batch.length);
            seen.push(...batch);
          },
          { after: head, batchSize: 2 },
        );
        try {
          await waitFor(() => seen.length >= 5, { message: 'catch-up of 5 events' });
          const live = await store.append(streamId, events(3));
          const other = await store.append(streamName(), events(1));
          await waitFor(() => seen.length >= 9, { message: 'live events' });
          expect(subscription.lastPosition()).toBe(other.positions[0]);
          expect(seen.slice(5).map((e) => e.position)).toEqual([...live.positions, ...other.positions]);
        } finally {
          await subscription.stop();
        }
        await subscription.finished;
        const expected = await store.readAll({ after: head });
        expect(seen.map((e) => e.eventId)).toEqual(expected.map((e) => e.eventId));
        expect(seen.slice(0, 5).map((e) => e.position)).toEqual(before.positions);
        expect(Math.max(...batchSizes)).toBeLessThanOrEqual(2);
      });

      it('waits for each batch to be handled before reading the next', async () => {
        const head = await store.headPosition();
        await store.append(streamName(), events(6));
        let inFlight = 0;
        let overlapped = false;
        let handled = 0;
        let release: () => void = () => undefined;
        const subscription = store.subscribeToAll(
          async (batch) => {
            inFlight += 1;
            overlapped ||= inFlight > 1;
            if (handled === 0) await new Promise<void>((resolve) => (release = resolve));
            handled += batch.length;
            inFlight -= 1;
          },
          { after: head, batchSize: 3 },
        );
        try {
          await waitFor(() => inFlight === 1, { message: 'first batch in hand' });
          expect(subscription.lastPosition()).toBe(head); // not acknowledged while in hand
          release();
          await waitFor(() => handled === 6, { message: 'both batches' });
        } finally {
          await subscription.stop();
        }
        expect(overlapped).toBe(false);
      });

      it('stops and rejects `finished` when the handler throws', async () => {
        const head = await store.headPosition();
        const first = await store.append(streamName(), events(1));
        await store.append(streamName(), events(1));
        const failure = new Error('read model rejected the event');
        let calls = 0;
        const subscription = store.subscribeToAll(
          async () => {
            calls += 1;
            if (calls === 2) throw failure;
          },
          { after: head, batchSize: 1 },
        );
        await expect(subscription.finished).rejects.toBe(failure);
        expect(subscription.lastPosition()).toBe(first.positions[0]);
        await store.append(streamName(), events(1));
        await subscription.stop(); // already stopped: resolves
        expect(calls).toBe(2);
      });
    });
  });
}
