import { Partitioners, logLevel, type Admin, type Kafka, type Producer, type RetryOptions } from 'kafkajs';
import { PostgresEventStore } from '@throughline/event-store';
import {
  allTopics,
  createKafka,
  ensureTopics,
  loadConfig,
  topicNames,
  type Config,
  type KafkaComponent,
} from '@throughline/platform';
import { PostgresDeadLetters, RECORDER_KAFKA_RETRY, Recorder } from '@throughline/recording';
import {
  grantKafkaAccess,
  SubjectFlow,
  createPrivateKafka,
  createTestDatabase,
  waitFor,
  type PrivateKafka,
  type TestDatabase,
} from '@throughline/testing';

/**
 * The recorder while its Kafka broker goes away and comes back on the same data: once with a
 * clean stop (SIGTERM, controlled shutdown) and once with SIGKILL of the broker JVM. Events
 * keep coming from a publisher that re-sends a round until Kafka acknowledges it, so the
 * number of events in is exact while the topic may hold duplicates. Every event must be stored
 * exactly once, in order per subject, and the recorder must be running again, not crashed.
 * The broker is this file's own (own port, own data dir): the shared one is never touched.
 */

const SUBJECTS_PER_AGENCY = 10;
/** Pause between two rounds of 30 events. */
const ROUND_PAUSE_MS = 100;
/** Rounds produced before the recorder starts, so that it starts with a backlog. */
const BACKLOG_ROUNDS = 40;
const MAX_RETRY_MS = 90_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** kafkajs logs every refused connection while the broker is down; the recorder's own log is kept. */
function quietKafka(config: Config, component: KafkaComponent, suffix: string, retry?: RetryOptions): Kafka {
  const kafka = createKafka(config, component, { clientSuffix: suffix, retry });
  kafka.logger().setLogLevel(logLevel.NOTHING);
  return kafka;
}

describe('recorder across a Kafka broker restart', () => {
  let broker: PrivateKafka | undefined;
  let db: TestDatabase | undefined;
  let config: Config;
  let admin: Admin | undefined;
  let producer: Producer | undefined;
  let store: PostgresEventStore | undefined;
  let recorderStore: PostgresEventStore | undefined;
  let deadLetters: PostgresDeadLetters | undefined;
  let recorder: Recorder | undefined;
  const recorderErrors: string[] = [];

  beforeAll(async () => {
    broker = await createPrivateKafka();
    const startup = await broker.start();
    console.log(`private broker ${broker.brokers} ready in ${startup.toFixed(1)} s`);
    db = await createTestDatabase('tl_recorder_broker_restart');
    config = loadConfig({
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: db.url,
      KAFKA_BROKERS: broker.brokers,
      KAFKA_TOPIC_PREFIX: 'test-broker-restart.',
      RECORDER_GROUP_ID: 'test-broker-restart',
      LOG_LEVEL: 'error',
    });
    const kafka = quietKafka(config, 'test', 'broker-restart-test');
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, allTopics(topicNames(config.KAFKA_TOPIC_PREFIX)), config.KAFKA_PARTITIONS);
    await grantKafkaAccess(config); // the recorder's own principal on this test's topics
    // One request in flight, so a retried send cannot overtake a later one.
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, maxInFlightRequests: 1 });
    await producer.connect();
    store = await PostgresEventStore.create({ connectionString: db.url });
    recorderStore = await PostgresEventStore.create({ connectionString: db.url });
    deadLetters = await PostgresDeadLetters.create({ connectionString: db.url });
  }, 240_000);

  afterAll(async () => {
    await recorder?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await deadLetters?.close();
    await recorderStore?.close();
    await store?.close();
    await db?.drop();
    await broker?.remove();
  }, 120_000);

  it('stores every event once, in order per subject, across a clean stop and a SIGKILL of the broker', async () => {
    const testStarted = Date.now();
    if (!producer || !recorderStore || !deadLetters || !store || !broker) throw new Error('set-up failed');
    const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
    const flow = new SubjectFlow({ producer, topics, subjectsPerAgency: SUBJECTS_PER_AGENCY });
    recorder = new Recorder({
      kafka: quietKafka(config, 'recorder', 'recorder', RECORDER_KAFKA_RETRY),
      store: recorderStore,
      deadLetters,
      groupId: config.RECORDER_GROUP_ID,
      topics,
      partitions: config.KAFKA_PARTITIONS,
      maxRetryMs: MAX_RETRY_MS,
      logger: { log: () => undefined, warn: () => undefined, error: (line) => recorderErrors.push(line) },
    });
    for (let round = 0; round < BACKLOG_ROUNDS; round += 1) await flow.produceRound();
    await recorder.start();
    const running = recorder;

    let feeding = true;
    const feed = (async () => {
      while (feeding) {
        await flow.produceRound();
        await sleep(ROUND_PAUSE_MS);
      }
    })();
    const recoveries: {
      how: string;
      downMs: number;
      startupS: number;
      recoveryMs: number;
      consumerRestarts: number;
    }[] = [];
    try {
      for (const how of ['SIGTERM', 'SIGKILL'] as const) {
        // Mid-flow: the recorder has stored a good part of what came in and more is coming.
        const storedBefore = running.metrics().eventsStored;
        await waitFor(() => running.metrics().eventsStored >= storedBefore + 600, {
          timeoutMs: 60_000,
          intervalMs: 50,
          message: `the recorder to store 600 more events before the ${how}`,
        });
        const lastRoundBefore = flow.roundsProduced - 1;
        const errorsBefore = recorderErrors.length;
        const down = Date.now();
        if (how === 'SIGTERM') {
          expect(await broker.stop()).toBe('terminated');
        } else {
          await broker.kill();
        }
        await sleep(2_000); // the recorder, the publisher and the group all notice
        const startupS = await broker.start();
        const back = Date.now();
        // A publisher unsure of what it sent before the outage sends it again.
        await flow.resendRound(lastRoundBefore);
        await waitFor(() => Date.parse(running.metrics().lastBatchAt ?? '') > back, {
          timeoutMs: MAX_RETRY_MS,
          intervalMs: 50,
          message: `the recorder to record a batch after the broker came back from ${how}`,
        });
        recoveries.push({
          how,
          downMs: back - down,
          startupS,
          recoveryMs: Date.now() - back,
          consumerRestarts: recorderErrors.slice(errorsBefore).filter((line) => line.includes('(restarting)'))
            .length,
        });
        expect(running.currentState()).toBe('running');
      }
      // Some more after the last restart.
      const roundsNow = flow.roundsProduced;
      await waitFor(() => flow.roundsProduced >= roundsNow + 20, { timeoutMs: 60_000 });
    } finally {
      feeding = false;
      await feed;
    }

    await waitFor(async () => (await flow.compareWithStore(store!)).distinct >= flow.eventsIn, {
      timeoutMs: 120_000,
      intervalMs: 500,
      message: `all ${flow.eventsIn} events stored`,
    });
    const messagesInKafka = await messagesOn(admin!, Object.values(topics.agency));
    const metrics = running.metrics();
    const comparison = await flow.compareWithStore(store);
    console.log(
      JSON.stringify({
        eventsIn: flow.eventsIn,
        messagesInKafka,
        failedSends: flow.failedSends,
        eventsStored: comparison.stored,
        duplicatesAbsorbed: metrics.duplicatesSkipped,
        alreadyRecordedSkipped: metrics.alreadyRecordedSkipped,
        retriableFailures: metrics.retriableFailures,
        recoveries,
        testSeconds: (Date.now() - testStarted) / 1000,
      }),
    );

    expect(comparison.missing).toEqual([]);
    expect(comparison.unexpected).toEqual([]);
    expect(comparison.outOfOrder).toEqual([]);
    expect(comparison.stored).toBe(flow.eventsIn);
    expect(comparison.distinct).toBe(flow.eventsIn);
    // The deliberate re-sends reached Kafka and were absorbed: stored once, counted as duplicates.
    expect(messagesInKafka).toBeGreaterThanOrEqual(flow.eventsIn + 2 * 3 * SUBJECTS_PER_AGENCY);
    expect(metrics.duplicatesSkipped).toBe(messagesInKafka - flow.eventsIn);
    expect(metrics.eventsStored).toBe(flow.eventsIn);
    // Healthy again: consuming, no batch still failing, and every failure on the way was a known, retriable one.
    expect(running.currentState()).toBe('running');
    expect(metrics.failingSince).toBeNull();
    expect(recorderErrors.filter((line) => /UNEXPECTED|GIVING UP|NOT restarting/.test(line))).toEqual([]);
  }, 300_000);
});

/** Messages on the topics: the sum of each partition's high watermark (nothing is deleted). */
async function messagesOn(admin: Admin, topics: readonly string[]): Promise<number> {
  let total = 0;
  for (const topic of topics) {
    for (const { high, low } of await admin.fetchTopicOffsets(topic)) total += Number(high) - Number(low);
  }
  return total;
}
