import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Partitioners, type Admin, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import type { AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore, type RecordedEvent } from '@throughline/event-store';
import {
  createKafka,
  ensureTopics,
  allTopics,
  loadConfig,
  topicNames,
  type Config,
} from '@throughline/platform';
import {
  grantKafkaAccess,
  buildImmunisationGiven,
  buildReferralReceived,
  createTestDatabase,
  freshRecordId,
  testDatabaseServerUrl,
  waitFor,
  type TestDatabase,
} from '@throughline/testing';
import { DEAD_LETTER_HEADERS, checkpointNameOf } from './index';
import { PostgresDeadLetters } from './postgres-dead-letters';
import { Recorder, type RecorderOptions } from './recorder';

/**
 * The recorder on the real broker and a real PostgreSQL: each test has its own database,
 * topic prefix and consumer group.
 */

interface Produced {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

interface Fixture {
  readonly db: TestDatabase;
  readonly config: Config;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly producer: Producer;
  readonly store: PostgresEventStore;
}

/** One recorder instance with its own store and dead-letter pools, as a process would have. */
interface RunningRecorder {
  readonly recorder: Recorder;
  readonly deadLetters: PostgresDeadLetters;
  stop(): Promise<void>;
}

const fixtures: Fixture[] = [];
const running: RunningRecorder[] = [];

const quiet = {
  log: () => undefined,
  warn: () => undefined,
  error: (message: string) => console.error(message),
};

async function setUp(): Promise<Fixture> {
  const db = await createTestDatabase('tl_recorder');
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const config = loadConfig({
    THROUGHLINE_MODE: 'development',
    DATABASE_URL: db.url,
    KAFKA_TOPIC_PREFIX: `test-recorder-${suffix}.`,
    RECORDER_GROUP_ID: `test-recorder-${suffix}`,
    RECORDER_PORT: '0',
    KAFKA_PARTITIONS: '3',
    LOG_LEVEL: 'error',
  });
  const kafka = createKafka(config, 'test', { clientSuffix: 'recorder-test' });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, allTopics(topicNames(config.KAFKA_TOPIC_PREFIX)), config.KAFKA_PARTITIONS);
  await grantKafkaAccess(config); // the recorder's own principal on this test's topics
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const store = await PostgresEventStore.create({ connectionString: db.url });
  const fixture = { db, config, kafka, admin, producer, store };
  fixtures.push(fixture);
  return fixture;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((instance) => instance.stop()));
  for (const { admin, producer, store, db } of fixtures.splice(0)) {
    await producer.disconnect();
    await admin.disconnect();
    await store.close();
    await db.drop();
  }
});

async function startRecorder(
  config: Config,
  options: Partial<Pick<RecorderOptions, 'maxRetryMs' | 'maxBackoffMs' | 'logger'>> = {},
): Promise<RunningRecorder> {
  const store = await PostgresEventStore.create({ connectionString: config.DATABASE_URL });
  const deadLetters = await PostgresDeadLetters.create({ connectionString: config.DATABASE_URL });
  const recorder = new Recorder({
    kafka: createKafka(config, 'recorder'),
    store,
    deadLetters,
    groupId: config.RECORDER_GROUP_ID,
    topics: topicNames(config.KAFKA_TOPIC_PREFIX),
    partitions: config.KAFKA_PARTITIONS,
    logger: quiet,
    ...options,
  });
  await recorder.start();
  const instance = {
    recorder,
    deadLetters,
    stop: async () => {
      await recorder.stop();
      await deadLetters.close();
      await store.close();
    },
  };
  running.push(instance);
  return instance;
}

async function stopRecorder(instance: RunningRecorder): Promise<void> {
  running.splice(running.indexOf(instance), 1);
  await instance.stop();
}

async function produce(
  producer: Producer,
  topic: string,
  key: string,
  value: Buffer | string,
  publisher = 'demo-publisher',
): Promise<Produced> {
  const [meta] = await producer.send({ topic, acks: -1, messages: [{ key, value, headers: { publisher } }] });
  return { topic, partition: meta.partition, offset: meta.baseOffset ?? '' };
}

const produceEvent = (producer: Producer, topic: string, event: AgencyEvent) =>
  produce(producer, topic, event.subject.recordId, JSON.stringify(event));

function agencyTopics(config: Config): string[] {
  return Object.values(topicNames(config.KAFKA_TOPIC_PREFIX).agency);
}

/** Each partition's end offset, and the group's committed offset for it. */
async function offsets(
  admin: Admin,
  config: Config,
): Promise<{ high: Map<string, string>; committed: Map<string, string> }> {
  const topics = agencyTopics(config);
  const high = new Map<string, string>();
  for (const topic of topics) {
    for (const { partition, high: end } of await admin.fetchTopicOffsets(topic))
      high.set(`${topic}:${partition}`, end);
  }
  const committed = new Map<string, string>();
  for (const { topic, partitions } of await admin.fetchOffsets({
    groupId: config.RECORDER_GROUP_ID,
    topics,
  })) {
    for (const { partition, offset } of partitions) committed.set(`${topic}:${partition}`, offset);
  }
  return { high, committed };
}

/** Waits until the group has committed every partition up to its end (empty ones excepted). */
async function waitUntilCaughtUp(admin: Admin, config: Config): Promise<void> {
  await waitFor(
    async () => {
      const { high, committed } = await offsets(admin, config);
      return [...high].every(([partition, end]) => end === '0' || committed.get(partition) === end);
    },
    { timeoutMs: 60_000, message: 'the recorder to commit every partition to its end' },
  );
}

/** Every event in the store, all pages of readAll. */
async function allStored(store: PostgresEventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readAll({ after: events.at(-1)?.position ?? 0n, maxCount: 1000 });
    events.push(...page);
    if (page.length < 1000) return events;
  }
}

async function deadLetterTopicSize(admin: Admin, topic: string): Promise<number> {
  const partitions = await admin.fetchTopicOffsets(topic);
  return partitions.reduce((sum, { high, low }) => sum + Number(high) - Number(low), 0);
}

describe('recorder', () => {
  it('stores valid events once with lineage, dead-letters garbage, checkpoints offsets, and resumes after a restart', async () => {
    const { config, admin, producer, store, kafka } = await setUp();
    const names = topicNames(config.KAFKA_TOPIC_PREFIX);
    const socialCare = names.agency['social-care'];
    const health = names.agency.health;

    const recordA = freshRecordId('case');
    const a = [1, 2, 3].map(() => buildReferralReceived({ subject: { recordId: recordA } }));
    const b1 = buildImmunisationGiven();
    const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x21]);

    const producedA: Produced[] = [];
    producedA.push(await produceEvent(producer, socialCare, a[0]));
    producedA.push(await produceEvent(producer, socialCare, a[1]));
    const duplicate = await produceEvent(producer, socialCare, a[1]); // same event id again
    const poison = await produce(producer, socialCare, recordA, garbage);
    producedA.push(await produceEvent(producer, socialCare, a[2]));
    const producedB1 = await produceEvent(producer, health, b1);

    const first = await startRecorder(config);
    await waitUntilCaughtUp(admin, config);

    // Exactly the four distinct events; stream A in the order produced, with its lineage.
    const all = await allStored(store);
    expect(all.map((event) => event.eventId).sort()).toEqual([...a.map((e) => e.eventId), b1.eventId].sort());
    const streamA = await store.readStream(`social-care-${recordA}`);
    expect(streamA.map((event) => [event.eventId, event.revision])).toEqual(
      a.map((e, i) => [e.eventId, BigInt(i)]),
    );
    expect(streamA.map((event) => event.data)).toEqual(a);
    streamA.forEach((event, i) => {
      expect(event.metadata).toEqual({
        topic: socialCare,
        partition: producedA[i].partition,
        offset: producedA[i].offset,
        key: recordA,
        publisher: 'demo-publisher',
        kafkaPrincipal: 'User:social-care-service',
        sourceSystem: 'demo-case-system',
        kafkaTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        recordedBy: 'recorder',
      });
    });
    const [storedB1] = await store.readStream(`health-${b1.subject.recordId}`);
    expect(storedB1.metadata).toMatchObject({
      topic: health,
      partition: producedB1.partition,
      offset: producedB1.offset,
    });

    const metrics = first.recorder.metrics();
    expect(metrics).toMatchObject({
      messagesConsumed: 6,
      eventsStored: 4,
      duplicatesSkipped: 1,
      deadLettered: 1,
      alreadyRecordedSkipped: 0,
    });
    expect(metrics.batches).toBeGreaterThanOrEqual(2);
    expect(metrics.lastBatchMs).toEqual(expect.any(Number));
    expect(metrics.lag[`${socialCare}:${duplicate.partition}`]).toBe(0);

    // The poison message: in the table and on the dead-letter topic, once.
    const page = await first.deadLetters.list({ limit: 10 });
    expect(page.next).toBeNull();
    expect(page.deadLetters).toEqual([
      expect.objectContaining({
        topic: socialCare,
        partition: poison.partition,
        offset: poison.offset,
        reason: 'unparseable',
        issues: [expect.objectContaining({ path: '', rule: 'json' })],
      }),
    ]);
    // The list carries no child data; the key, headers and bytes are read one dead letter at a time.
    expect(page.deadLetters[0]).not.toHaveProperty('value');
    expect(page.deadLetters[0]).not.toHaveProperty('key');
    expect(await first.deadLetters.payload(page.deadLetters[0].id)).toEqual({
      id: page.deadLetters[0].id,
      key: recordA,
      headers: { publisher: 'demo-publisher' },
      value: { encoding: 'base64', text: garbage.toString('base64') },
    });
    expect(await deadLetterTopicSize(admin, names.deadLetter)).toBe(1);
    const deadLetterTopic = await readTopic(
      kafka,
      names.deadLetter,
      `${config.RECORDER_GROUP_ID}-dlt-reader`,
      1,
    );
    expect(deadLetterTopic).toHaveLength(1);
    expect(deadLetterTopic[0].value).toEqual(garbage);
    expect(headerText(deadLetterTopic[0])).toMatchObject({
      [DEAD_LETTER_HEADERS.originalTopic]: socialCare,
      [DEAD_LETTER_HEADERS.originalPartition]: String(poison.partition),
      [DEAD_LETTER_HEADERS.originalOffset]: poison.offset,
      [DEAD_LETTER_HEADERS.originalKey]: recordA,
      [DEAD_LETTER_HEADERS.reason]: 'unparseable',
      [DEAD_LETTER_HEADERS.deadLetteredAt]: expect.stringMatching(/^\d{4}-/),
    });
    expect(JSON.parse(headerText(deadLetterTopic[0])[DEAD_LETTER_HEADERS.issues])[0].rule).toBe('json');

    // Offsets: in the store with the events, and committed to Kafka.
    const afterA = String(Number(producedA[2].offset) + 1);
    const checkpointA = first.recorder.checkpointNameOf(socialCare, producedA[2].partition);
    expect(await store.readCheckpoint(checkpointA)).toBe(afterA);
    const { high, committed } = await offsets(admin, config);
    expect(committed.get(`${socialCare}:${producedA[2].partition}`)).toBe(afterA);
    expect(high.get(`${socialCare}:${producedA[2].partition}`)).toBe(afterA);

    expect(first.recorder.isRunning()).toBe(true);

    // Stop, produce more (a new event, a re-sent old one, another stream), start a new instance.
    await stopRecorder(first);
    const a4 = buildReferralReceived({ subject: { recordId: recordA } });
    await produceEvent(producer, socialCare, a4);
    await produceEvent(producer, socialCare, a[0]);
    const b2 = buildImmunisationGiven({ subject: { recordId: b1.subject.recordId } });
    await produceEvent(producer, health, b2);

    const second = await startRecorder(config);
    await waitUntilCaughtUp(admin, config);

    expect(second.recorder.metrics()).toMatchObject({
      messagesConsumed: 3, // resumed from the stored offsets: nothing re-read
      eventsStored: 2,
      duplicatesSkipped: 1,
      deadLettered: 0,
    });
    expect((await store.readStream(`social-care-${recordA}`)).map((event) => event.eventId)).toEqual(
      [...a, a4].map((e) => e.eventId),
    );
    expect((await store.readStream(`health-${b1.subject.recordId}`)).map((event) => event.eventId)).toEqual([
      b1.eventId,
      b2.eventId,
    ]);
    expect(await allStored(store)).toHaveLength(6);
    expect((await second.deadLetters.list()).deadLetters).toHaveLength(1);
    expect(await deadLetterTopicSize(admin, names.deadLetter)).toBe(1);
  });

  it('isolates an event the store refuses (its id reused on another stream) and records the rest of the batch', async () => {
    const { config, admin, producer, store } = await setUp();
    const socialCare = topicNames(config.KAFKA_TOPIC_PREFIX).agency['social-care'];
    const recordId = freshRecordId('case');
    const [v1, taken, v2, v3] = [1, 2, 3, 4].map(() => buildReferralReceived({ subject: { recordId } }));
    const impostor = buildReferralReceived({
      eventId: taken.eventId,
      subject: { recordId: freshRecordId('case') },
    });

    for (const event of [v1, taken, v2]) await produceEvent(producer, socialCare, event);
    // Same key, so the same partition and (most likely) the same batch as the others.
    const refused = await produce(producer, socialCare, recordId, JSON.stringify(impostor));
    const last = await produceEvent(producer, socialCare, v3);

    const instance = await startRecorder(config);
    await waitUntilCaughtUp(admin, config);

    expect((await store.readStream(`social-care-${recordId}`)).map((event) => event.eventId)).toEqual(
      [v1, taken, v2, v3].map((e) => e.eventId),
    );
    expect(await store.readStream(`social-care-${impostor.subject.recordId}`)).toEqual([]);
    const { deadLetters } = await instance.deadLetters.list();
    expect(deadLetters).toEqual([
      expect.objectContaining({
        offset: refused.offset,
        reason: 'store-rejected',
        issues: [expect.objectContaining({ rule: 'ILLEGAL_STATE' })],
      }),
    ]);
    expect((await instance.deadLetters.payload(deadLetters[0].id))?.value).toEqual({
      encoding: 'utf8',
      text: JSON.stringify(impostor),
    });
    expect(instance.recorder.metrics()).toMatchObject({
      eventsStored: 4,
      deadLettered: 1,
      batchesIsolated: 1,
    });
    const checkpoint = instance.recorder.checkpointNameOf(socialCare, last.partition);
    expect(await store.readCheckpoint(checkpoint)).toBe(String(Number(last.offset) + 1));
  });

  it('retries while the database is down and loses nothing when it is back', async () => {
    const { db, config, admin, producer, store } = await setUp();
    const socialCare = topicNames(config.KAFKA_TOPIC_PREFIX).agency['social-care'];
    const recordId = freshRecordId('case');
    const [before, during] = [1, 2].map(() => buildReferralReceived({ subject: { recordId } }));
    await produceEvent(producer, socialCare, before);
    const instance = await startRecorder(config);
    await waitUntilCaughtUp(admin, config);

    const database = new URL(db.url).pathname.slice(1);
    const server = new Client({ connectionString: `${testDatabaseServerUrl()}/postgres` });
    await server.connect();
    try {
      await server.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
      await server.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [
        database,
      ]);
      await produceEvent(producer, socialCare, during);
      await waitFor(() => instance.recorder.metrics().retriableFailures > 0, {
        message: 'a failed, retried batch',
      });
      expect(instance.recorder.metrics().eventsStored).toBe(1);
    } finally {
      await server.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
      await server.end();
    }

    await waitUntilCaughtUp(admin, config);
    expect((await store.readStream(`social-care-${recordId}`)).map((event) => event.eventId)).toEqual([
      before.eventId,
      during.eventId,
    ]);
    expect(instance.recorder.metrics().eventsStored).toBe(2);
  });

  it('stops loudly (crashed, no more retries) once the database stays down past the bound, then a restart loses nothing', async () => {
    const { db, config, admin, producer, store } = await setUp();
    const socialCare = topicNames(config.KAFKA_TOPIC_PREFIX).agency['social-care'];
    const recordId = freshRecordId('case');
    const [before, during] = [1, 2].map(() => buildReferralReceived({ subject: { recordId } }));
    await produceEvent(producer, socialCare, before);
    const errors: string[] = [];
    const maxRetryMs = 3_000;
    const instance = await startRecorder(config, {
      maxRetryMs,
      maxBackoffMs: 1_000,
      logger: { log: () => undefined, warn: () => undefined, error: (message) => errors.push(message) },
    });
    await waitUntilCaughtUp(admin, config);

    const database = new URL(db.url).pathname.slice(1);
    const server = new Client({ connectionString: `${testDatabaseServerUrl()}/postgres` });
    await server.connect();
    try {
      await server.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
      await server.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [
        database,
      ]);
      const downAt = Date.now();
      await produceEvent(producer, socialCare, during);
      await waitFor(() => instance.recorder.currentState() === 'crashed', {
        timeoutMs: 30_000,
        message: 'the recorder to give up',
      });
      const gaveUpAfter = Date.now() - downAt;
      expect(gaveUpAfter).toBeGreaterThanOrEqual(maxRetryMs);
      const failures = instance.recorder.metrics().retriableFailures;
      expect(failures).toBeGreaterThanOrEqual(3); // retried with pauses in between, not once
      // Backoff: far fewer attempts than a tight loop would make in the same time.
      expect(failures).toBeLessThan(40);
      expect(
        errors.some((message) => message.includes('GIVING UP') && message.includes('RECORDER_MAX_RETRY_MS')),
      ).toBe(true);

      // It stays stopped: no further attempts while the database is still down.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(instance.recorder.currentState()).toBe('crashed');
      expect(instance.recorder.metrics().retriableFailures).toBe(failures);
      expect(instance.recorder.isRunning()).toBe(false);
    } finally {
      await server.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
      await server.end();
    }
    expect(instance.recorder.metrics().eventsStored).toBe(1); // `before` only
    await stopRecorder(instance);

    // The database is back: a new recorder stores the event that failed, once.
    const restarted = await startRecorder(config);
    await waitUntilCaughtUp(admin, config);
    expect((await store.readStream(`social-care-${recordId}`)).map((event) => event.eventId)).toEqual([
      before.eventId,
      during.eventId,
    ]);
    expect(restarted.recorder.metrics().eventsStored).toBe(1);
  });

  it('loses nothing, doubles nothing and keeps each subject in order while a second instance joins and leaves the group', async () => {
    const { config, admin, producer, store } = await setUp();
    const socialCare = topicNames(config.KAFKA_TOPIC_PREFIX).agency['social-care'];
    const subjects = Array.from({ length: 12 }, () => freshRecordId('case'));
    const produced = new Map<string, string[]>(subjects.map((recordId) => [recordId, []]));
    let stopProducing = false;
    let total = 0;
    const feeding = (async () => {
      for (let round = 0; !stopProducing || round < 5; round += 1) {
        for (const recordId of subjects) {
          const event = buildReferralReceived({ subject: { recordId } });
          await produceEvent(producer, socialCare, event);
          produced.get(recordId)?.push(event.eventId);
          total += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const first = await startRecorder(config);
    await waitFor(() => first.recorder.metrics().eventsStored > 0, { message: 'the first instance storing' });
    const second = await startRecorder(config);
    await waitFor(() => second.recorder.metrics().eventsStored > 0, {
      timeoutMs: 60_000,
      message: 'the second instance to be given partitions and store',
    });
    const storedByFirstBeforeLeave = first.recorder.metrics().eventsStored;
    await stopRecorder(second);
    await waitFor(() => first.recorder.metrics().eventsStored > storedByFirstBeforeLeave, {
      timeoutMs: 60_000,
      message: 'the first instance to take the partitions back',
    });
    stopProducing = true;
    await feeding;
    await waitUntilCaughtUp(admin, config);

    const all = await allStored(store);
    expect(all).toHaveLength(total);
    expect(new Set(all.map((event) => event.eventId)).size).toBe(total);
    for (const recordId of subjects) {
      expect((await store.readStream(`social-care-${recordId}`)).map((event) => event.eventId)).toEqual(
        produced.get(recordId),
      );
    }
    expect(total).toBeGreaterThan(12 * 5);
  });

  it('stores nothing twice when restarted with the stored checkpoint ahead of the Kafka committed offset', async () => {
    const { config, admin, producer, store } = await setUp();
    const socialCare = topicNames(config.KAFKA_TOPIC_PREFIX).agency['social-care'];
    const recordId = freshRecordId('case');
    const events = [1, 2, 3].map(() => buildReferralReceived({ subject: { recordId } }));
    let last: Produced | undefined;
    for (const event of events) last = await produceEvent(producer, socialCare, event);
    await produce(producer, socialCare, recordId, 'not json');

    const first = await startRecorder(config);
    await waitUntilCaughtUp(admin, config);
    await stopRecorder(first);

    // A crash between the database commit and the Kafka commit: Kafka is back at the start.
    await admin.setOffsets({
      groupId: config.RECORDER_GROUP_ID,
      topic: socialCare,
      partitions: [0, 1, 2].map((partition) => ({ partition, offset: '0' })),
    });
    const { committed } = await offsets(admin, config);
    expect(committed.get(`${socialCare}:${last?.partition}`)).toBe('0');
    const next = buildReferralReceived({ subject: { recordId } });
    await produceEvent(producer, socialCare, next);

    const second = await startRecorder(config);
    await waitUntilCaughtUp(admin, config);

    expect(second.recorder.metrics()).toMatchObject({
      messagesConsumed: 1, // offsets restored from the store: the old ones are not even fetched
      eventsStored: 1,
      duplicatesSkipped: 0,
      deadLettered: 0,
    });
    expect((await store.readStream(`social-care-${recordId}`)).map((event) => event.eventId)).toEqual(
      [...events, next].map((e) => e.eventId),
    );
    expect(await allStored(store)).toHaveLength(4);
    expect((await second.deadLetters.list()).deadLetters).toHaveLength(1);
  });

  it('ignores checkpoints stored while recording another Kafka cluster (a broker formatted afresh)', async () => {
    const { config, admin, producer, store } = await setUp();
    const socialCare = topicNames(config.KAFKA_TOPIC_PREFIX).agency['social-care'];
    // The database outlived the broker it was fed from: its checkpoints are far past the new partitions' ends.
    const previousCluster = 'a-cluster-formatted-before';
    await store.appendMany(
      [
        {
          streamId: 'social-care-from-the-previous-cluster',
          expectedRevision: 'no_stream',
          events: [buildReferralReceived()].map((event) => ({
            eventId: event.eventId,
            type: event.type,
            data: event,
          })),
        },
      ],
      {
        checkpoints: Object.fromEntries(
          [0, 1, 2].map((partition) => [
            checkpointNameOf(previousCluster, config.RECORDER_GROUP_ID, socialCare, partition),
            '1000',
          ]),
        ),
      },
    );
    const recordId = freshRecordId('case');
    const events = [1, 2].map(() => buildReferralReceived({ subject: { recordId } }));
    let last: Produced | undefined;
    for (const event of events) last = await produceEvent(producer, socialCare, event);

    const instance = await startRecorder(config);
    await waitUntilCaughtUp(admin, config);

    expect(instance.recorder.clusterId).not.toBe(previousCluster);
    expect((await store.readStream(`social-care-${recordId}`)).map((event) => event.eventId)).toEqual(
      events.map((e) => e.eventId),
    );
    expect(instance.recorder.metrics()).toMatchObject({ eventsStored: 2, alreadyRecordedSkipped: 0 });
    const checkpoint = instance.recorder.checkpointNameOf(socialCare, last?.partition ?? -1);
    expect(await store.readCheckpoint(checkpoint)).toBe(String(Number(last?.offset) + 1));
  });
});

function headerText(message: KafkaMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
  );
}

/** Reads a topic from the beginning until `count` messages arrived. */
async function readTopic(
  kafka: Kafka,
  topic: string,
  groupId: string,
  count: number,
): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        messages.push(message);
      },
    });
    await waitFor(() => messages.length >= count, {
      timeoutMs: 30_000,
      message: `${count} messages on ${topic}`,
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}
