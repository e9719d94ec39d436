import { buildEvent, buildImmunisationGiven, buildReferralReceived } from '@throughline/testing';
import { ValidationError, type PublisherCredential } from '@throughline/platform';
import type { IHeaders, PartitionMetadata, RecordMetadata } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import {
  buildPublishResponse,
  eventsOfBatchBody,
  httpStatusOf,
  MAX_BATCH_EVENTS,
  messageBytes,
  offsetsOfSend,
  partitionForKey,
  PublisherKeyring,
  readableEventId,
  sendChunks,
  toOutgoingMessage,
  validateEvents,
} from './publication';

const TOPIC = 't.health.events.v1';

function partitionsOf(count: number): PartitionMetadata[] {
  return Array.from({ length: count }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
  }));
}

function record(partition: number, baseOffset: string): RecordMetadata {
  return { topicName: TOPIC, partition, errorCode: 0, baseOffset };
}

describe('offsetsOfSend', () => {
  it('gives each message its base offset plus its position among its partition’s messages', () => {
    const offsets = offsetsOfSend(
      TOPIC,
      [0, 1, 0, 2, 0, 1],
      [record(0, '10'), record(1, '5'), record(2, '0')],
    );
    expect(offsets).toEqual(['10', '5', '11', '0', '12', '6']);
  });

  it('keeps 64-bit offsets exact beyond Number.MAX_SAFE_INTEGER', () => {
    expect(offsetsOfSend(TOPIC, [0, 0], [record(0, '9007199254740993')])).toEqual([
      '9007199254740993',
      '9007199254740994',
    ]);
  });

  it('refuses to invent an offset for a partition Kafka did not acknowledge', () => {
    expect(() => offsetsOfSend(TOPIC, [0, 1], [record(0, '3')])).toThrow(/did not acknowledge .*\/1/);
  });

  it('ignores metadata of other topics', () => {
    const other: RecordMetadata = { topicName: 'other', partition: 0, errorCode: 0, baseOffset: '99' };
    expect(offsetsOfSend(TOPIC, [0], [other, record(0, '1')])).toEqual(['1']);
  });
});

describe('sendChunks', () => {
  const message = (key: string, bytes: number, partition = 0, headers: IHeaders = {}) => ({
    key,
    value: 'x'.repeat(bytes),
    partition,
    headers,
  });
  const keysOf = (chunks: readonly (readonly { key: string }[])[]) =>
    chunks.map((chunk) => chunk.map((m) => m.key));

  it('keeps order and puts at most maxPartitionBytes of one partition in each send', () => {
    const messages = ['a', 'b', 'c', 'd', 'e'].map((key) => message(key, 39)); // 40 bytes each
    expect(keysOf(sendChunks(messages, 100))).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('limits each partition on its own, as the broker does, so a spread batch goes in one send', () => {
    const messages = ['a', 'b', 'c', 'd', 'e', 'f'].map((key, i) => message(key, 39, i % 3)); // 80 bytes a partition
    expect(keysOf(sendChunks(messages, 100))).toEqual([['a', 'b', 'c', 'd', 'e', 'f']]);
    // A third message on partition 0 would take it to 120 bytes: a new send from there on.
    const more = [...messages, message('g', 39, 0), message('h', 39, 1)];
    expect(keysOf(sendChunks(more, 100))).toEqual([
      ['a', 'b', 'c', 'd', 'e', 'f'],
      ['g', 'h'],
    ]);
  });

  it('counts header names and values with the key and value', () => {
    const headers = { 'event-id': 'e'.repeat(12) }; // 8 + 12 bytes
    const messages = ['a', 'b', 'c'].map((key) => message(key, 19, 0, headers)); // 40 bytes each
    expect(messageBytes(messages[0])).toBe(40);
    expect(keysOf(sendChunks(messages, 100))).toEqual([['a', 'b'], ['c']]);
    expect(messageBytes(message('a', 1, 0, { list: ['ab', Buffer.from('cde')], none: undefined }))).toBe(
      2 + 4 + 5 + 4,
    );
  });

  it('sends a message larger than the limit alone in its partition, and nothing for no messages', () => {
    const chunks = sendChunks([message('a', 10), message('big', 500), message('c', 10)], 100);
    expect(keysOf(chunks)).toEqual([['a'], ['big'], ['c']]);
    // Other partitions' messages may share its send.
    const spread = sendChunks([message('a', 10, 1), message('big', 500, 0), message('c', 10, 1)], 100);
    expect(keysOf(spread)).toEqual([['a', 'big', 'c']]);
    expect(sendChunks([], 100)).toEqual([]);
  });
});

describe('partitionForKey', () => {
  it('is stable per key and spreads keys over every partition', () => {
    const partitions = partitionsOf(3);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const key = `rec-${i}`;
      const partition = partitionForKey(TOPIC, key, partitions);
      expect(partition).toBe(partitionForKey(TOPIC, key, partitions));
      expect(partition).toBeGreaterThanOrEqual(0);
      expect(partition).toBeLessThan(3);
      seen.add(partition);
    }
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });

  it('matches the Java client’s murmur2 partitioning', () => {
    for (const key of [
      'a',
      'ab',
      'abc',
      'abcd',
      'rec-1',
      'chs-0b6f0d1e-5c2a-4d53-9d7e-0c1f4a8e2b3c',
      'é-ü',
    ]) {
      for (const count of [1, 3, 10]) {
        expect(partitionForKey(TOPIC, key, partitionsOf(count))).toBe(toPositiveMurmur2Mod(key, count));
      }
    }
  });
});

/** Kafka's Java Utils.murmur2 transcribed on its own, so that the partition the gateway picks is the one Java clients would. */
function toPositiveMurmur2Mod(key: string, partitions: number): number {
  const data = Buffer.from(key, 'utf8');
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  const length = data.length;
  let h = (seed ^ length) | 0;
  const length4 = Math.floor(length / 4);
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4] & 0xff) +
      ((data[i4 + 1] & 0xff) << 8) +
      ((data[i4 + 2] & 0xff) << 16) +
      ((data[i4 + 3] & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const remaining = length % 4;
  if (remaining === 3) h ^= (data[tail + 2] & 0xff) << 16;
  if (remaining >= 2) h ^= (data[tail + 1] & 0xff) << 8;
  if (remaining >= 1) {
    h ^= data[tail] & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return (h & 0x7fffffff) % partitions;
}

describe('PublisherKeyring', () => {
  const credentials: PublisherCredential[] = [
    { agency: 'health', publisherId: 'chs-one', key: 'health-key-1' },
    { agency: 'health', publisherId: 'chs-two', key: 'health-key-2' },
    { agency: 'education', publisherId: 'school-mis', key: 'education-key' },
  ];
  const keyring = new PublisherKeyring(credentials, 'health');

  it('names the publisher whose key was presented', () => {
    expect(keyring.authenticate('Bearer health-key-2')).toEqual({ agency: 'health', publisherId: 'chs-two' });
    expect(keyring.authenticate('bearer health-key-1')).toEqual({ agency: 'health', publisherId: 'chs-one' });
  });

  it.each([
    ['no header', undefined],
    ['another scheme', 'Basic aGVhbHRoLWtleS0x'],
    ['an unknown key', 'Bearer not-a-key'],
    ["another agency's key", 'Bearer education-key'],
    ['an empty bearer', 'Bearer '],
  ])('refuses %s as UNAUTHENTICATED', (_, header) => {
    expect(() => keyring.authenticate(header)).toThrow(
      expect.objectContaining({ code: 'UNAUTHENTICATED', httpStatus: 401 }),
    );
  });
});

describe('eventsOfBatchBody', () => {
  function issuesOf(body: unknown) {
    try {
      eventsOfBatchBody(body);
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).issues.map(({ path, rule }) => ({ path, rule }));
    }
    throw new Error('expected a ValidationError');
  }

  it('takes 1..1000 events', () => {
    expect(eventsOfBatchBody({ events: [1] })).toEqual([1]);
    expect(eventsOfBatchBody({ events: Array(MAX_BATCH_EVENTS).fill({}) })).toHaveLength(MAX_BATCH_EVENTS);
  });

  it('names the rule that an oversized, empty or missing batch breaks', () => {
    expect(issuesOf({ events: Array(MAX_BATCH_EVENTS + 1).fill({}) })).toEqual([
      { path: 'events', rule: 'max-items' },
    ]);
    expect(issuesOf({ events: [] })).toEqual([{ path: 'events', rule: 'min-items' }]);
    expect(issuesOf({})).toEqual([{ path: 'events', rule: 'required' }]);
    expect(issuesOf({ events: [{}], extra: 1 })).toEqual([{ path: 'extra', rule: 'unknown-field' }]);
  });
});

describe('validateEvents', () => {
  it('splits valid events from rejected ones, each rejection naming path and rule', () => {
    const good = buildImmunisationGiven();
    const badNhs = buildImmunisationGiven({ subject: { nhsNumber: '9990000001' } });
    const otherAgency = buildReferralReceived();
    const { valid, rejected } = validateEvents([good, badNhs, 'not an event', otherAgency], 'health');

    expect(valid.map(({ index, event }) => [index, event.eventId])).toEqual([[0, good.eventId]]);
    expect(
      rejected.map(({ index, eventId, issues }) => ({
        index,
        eventId,
        rules: issues.map((i) => `${i.path}:${i.rule}`),
      })),
    ).toEqual([
      { index: 1, eventId: badNhs.eventId, rules: ['subject.nhsNumber:nhs-number-check-digit'] },
      { index: 2, eventId: undefined, rules: [expect.stringMatching(/^:type:object$/)] },
      { index: 3, eventId: otherAgency.eventId, rules: ['type:publisher-agency'] },
    ]);
    expect(Object.hasOwn(rejected[1], 'eventId')).toBe(false);
  });

  it('reads an eventId only when it is a usable string', () => {
    expect(readableEventId({ eventId: 'abc' })).toBe('abc');
    expect(readableEventId({ eventId: 7 })).toBeUndefined();
    expect(readableEventId(null)).toBeUndefined();
    expect(readableEventId({ eventId: 'x'.repeat(101) })).toBeUndefined();
  });
});

describe('toOutgoingMessage', () => {
  const publisher = { agency: 'health' as const, publisherId: 'chs-one' };

  it('keys by subject record id and carries the validated event and its lineage headers', () => {
    const event = buildEvent('health.immunisation.given');
    const message = toOutgoingMessage(event, publisher, TOPIC, partitionsOf(3));
    expect(message.key).toBe(event.subject.recordId);
    expect(JSON.parse(message.value)).toEqual(event);
    expect(message.partition).toBe(partitionForKey(TOPIC, event.subject.recordId, partitionsOf(3)));
    expect(message.headers).toEqual({
      'event-id': event.eventId,
      'event-type': 'health.immunisation.given',
      'schema-version': '1',
      publisher: 'chs-one',
      'source-system': event.source.system,
      'content-type': 'application/json',
    });
  });

  it('adds correlation-id only when the event has one', () => {
    const correlationId = randomUUID();
    const event = buildEvent('health.immunisation.given', { correlationId });
    expect(toOutgoingMessage(event, publisher, TOPIC, partitionsOf(1)).headers['correlation-id']).toBe(
      correlationId,
    );
  });
});

describe('buildPublishResponse', () => {
  it('answers every posted event in posted order, 202 when any was accepted', () => {
    const a = buildImmunisationGiven();
    const b = buildImmunisationGiven();
    const response = buildPublishResponse(
      TOPIC,
      [
        { index: 0, event: a },
        { index: 2, event: b },
      ],
      [
        { partition: 1, offset: '7' },
        { partition: 0, offset: '3' },
      ],
      [{ index: 1, status: 'rejected', issues: [{ path: 'type', rule: 'required', message: 'required' }] }],
    );
    expect(response.accepted).toBe(2);
    expect(response.rejected).toBe(1);
    expect(response.results.map((r) => [r.index, r.status])).toEqual([
      [0, 'accepted'],
      [1, 'rejected'],
      [2, 'accepted'],
    ]);
    expect(response.results[2]).toEqual({
      index: 2,
      eventId: b.eventId,
      status: 'accepted',
      topic: TOPIC,
      partition: 0,
      offset: '3',
    });
    expect(httpStatusOf(response)).toBe(202);
  });

  it('is a 400 when nothing was accepted', () => {
    const response = buildPublishResponse(
      TOPIC,
      [],
      [],
      [{ index: 0, status: 'rejected', issues: [{ path: '', rule: 'type:object', message: 'x' }] }],
    );
    expect(httpStatusOf(response)).toBe(400);
  });
});
