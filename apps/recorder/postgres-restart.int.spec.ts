import { randomBytes } from 'node:crypto';
import { Partitioners, logLevel, type Admin, type Kafka, type Producer } from 'kafkajs';
import { PostgresEventStore } from '@throughline/event-store';
import {
  allTopics,
  createKafka,
  createPool,
  ensureDatabase,
  ensureTopics,
  loadConfig,
  topicNames,
  type Config,
  type KafkaComponent,
} from '@throughline/platform';
import { PostgresDeadLetters, Recorder } from '@throughline/recording';
import {
  SubjectFlow,
  grantKafkaAccess,
  startPrivatePostgres,
  waitFor,
  type PrivatePostgres,
} from '@throughline/testing';

/**
 * The recorder while its PostgreSQL server restarts under it: once `pg_ctl restart -m fast`
 * (sessions ended with 57P01 admin_shutdown, transactions in flight rolled back), once a crash
 * (`pg_ctl stop -m immediate`, a few seconds down, then crash recovery on start). Events keep
 * coming on the shared broker (this file's own topics and group). Every event must be stored
 * exactly once, in order per subject, and the recorder must come back by itself within
 * RECORDER_MAX_RETRY_MS, not crash. The server is a private cluster of this file's own: the
 * shared server on 5432 is never restarted.
 */

const SUBJECTS_PER_AGENCY = 10;
const ROUND_PAUSE_MS = 150;
const MAX_RETRY_MS = 60_000;
/** How long the crashed server stays down before it is started again. */
const OUTAGE_MS = 3_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function quietKafka(config: Config, component: KafkaComponent, suffix: string): Kafka {
  const kafka = createKafka(config, component, { clientSuffix: suffix });
  kafka.logger().setLogLevel(logLevel.NOTHING);
  return kafka;
}

describe('recorder across a PostgreSQL restart', () => {
  let postgres: PrivatePostgres | undefined;
  let config: Config;
  let admin: Admin | undefined;
  let producer: Producer | undefined;
  let store: PostgresEventStore | undefined;
  let recorderStore: PostgresEventStore | undefined;
  let deadLetters: PostgresDeadLetters | undefined;
  let recorder: Recorder | undefined;
  const recorderErrors: string[] = [];

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    const databaseUrl = `${postgres.serverUrl}/tl_recorder_postgres_restart`;
    await ensureDatabase(databaseUrl);
    const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    config = loadConfig({
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: databaseUrl,
      KAFKA_TOPIC_PREFIX: `test-postgres-restart-${suffix}.`,
      RECORDER_GROUP_ID: `test-postgres-restart-${suffix}`,
      LOG_LEVEL: 'error',
    });
    const kafka = quietKafka(config, 'test', 'postgres-restart-test');
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, allTopics(topicNames(config.KAFKA_TOPIC_PREFIX)), config.KAFKA_PARTITIONS);
    await grantKafkaAccess(config); // the recorder's own principal on this test's topics
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, maxInFlightRequests: 1 });
    await producer.connect();
    store = await PostgresEventStore.create({ connectionString: databaseUrl });
    recorderStore = await PostgresEventStore.create({ connectionString: databaseUrl });
    deadLetters = await PostgresDeadLetters.create({ connectionString: databaseUrl });
  }, 120_000);

  afterAll(async () => {
    await recorder?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    if (admin && config) {
      await admin
        .deleteTopics({ topics: allTopics(topicNames(config.KAFKA_TOPIC_PREFIX)) })
        .catch(() => undefined);
    }
    await admin?.disconnect().catch(() => undefined);
    await deadLetters?.close().catch(() => undefined);
    await recorderStore?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await postgres?.remove();
  }, 120_000);

  // Regression: pg-pool listens for a client's 'error' only while it is idle, so a server restart
  // while a client was checked out (as the recorder's append transaction holds one) threw an
  // unheard 'error' event and crashed the process.
  it('survives a restart while a pool client is checked out, and the pool reconnects', async () => {
    if (!postgres) throw new Error('set-up failed');
    const pool = createPool(config.DATABASE_URL, { max: 1 });
    try {
      const client = await pool.connect();
      const lost = new Promise<void>((resolve) => client.once('end', () => resolve()));
      await client.query('SELECT 1');
      await postgres.restart('fast');
      await lost;
      await expect(client.query('SELECT 1')).rejects.toThrow(/not queryable|terminated/);
      client.release();
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  }, 30_000);

  it('stores every event once, in order per subject, across a fast restart and a crash of PostgreSQL', async () => {
    const testStarted = Date.now();
    if (!producer || !recorderStore || !deadLetters || !store || !postgres) throw new Error('set-up failed');
    const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
    const flow = new SubjectFlow({ producer, topics, subjectsPerAgency: SUBJECTS_PER_AGENCY });
    recorder = new Recorder({
      kafka: quietKafka(config, 'recorder', 'recorder'),
      store: recorderStore,
      deadLetters,
      groupId: config.RECORDER_GROUP_ID,
      topics,
      partitions: config.KAFKA_PARTITIONS,
      maxRetryMs: MAX_RETRY_MS,
      logger: { log: () => undefined, warn: () => undefined, error: (line) => recorderErrors.push(line) },
    });
    await recorder.start();
    const running = recorder;
    const server = postgres;

    let feeding = true;
    const feed = (async () => {
      while (feeding) {
        await flow.produceRound();
        await sleep(ROUND_PAUSE_MS);
      }
    })();
    const restarts: { how: string; downMs: number; failures: number; recoveryMs: number }[] = [];
    try {
      for (const how of ['restart -m fast', 'stop -m immediate, start'] as const) {
        const storedBefore = running.metrics().eventsStored;
        await waitFor(() => running.metrics().eventsStored >= storedBefore + 600, {
          timeoutMs: 60_000,
          intervalMs: 50,
          message: `the recorder to store 600 more events before ${how}`,
        });
        const lastRoundBefore = flow.roundsProduced - 1;
        const failuresBefore = running.metrics().retriableFailures;
        const down = Date.now();
        if (how === 'restart -m fast') {
          await server.restart('fast');
        } else {
          await server.stop('immediate');
          await sleep(OUTAGE_MS);
          await server.start();
        }
        const back = Date.now();
        await flow.resendRound(lastRoundBefore);
        await waitFor(() => Date.parse(running.metrics().lastBatchAt ?? '') > back, {
          timeoutMs: MAX_RETRY_MS,
          intervalMs: 50,
          message: `the recorder to record a batch after ${how}`,
        });
        restarts.push({
          how,
          downMs: back - down,
          failures: running.metrics().retriableFailures - failuresBefore,
          recoveryMs: Date.now() - back,
        });
        expect(running.currentState()).toBe('running');
      }
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
        eventsStored: comparison.stored,
        duplicatesAbsorbed: metrics.duplicatesSkipped,
        alreadyRecordedSkipped: metrics.alreadyRecordedSkipped,
        retriableFailures: metrics.retriableFailures,
        restarts,
        testSeconds: (Date.now() - testStarted) / 1000,
      }),
    );

    expect(comparison.missing).toEqual([]);
    expect(comparison.unexpected).toEqual([]);
    expect(comparison.outOfOrder).toEqual([]);
    expect(comparison.stored).toBe(flow.eventsIn);
    expect(comparison.distinct).toBe(flow.eventsIn);
    // The re-sent rounds are in Kafka twice and in the store once.
    expect(messagesInKafka).toBe(flow.eventsIn + 2 * 3 * SUBJECTS_PER_AGENCY);
    expect(metrics.duplicatesSkipped).toBe(messagesInKafka - flow.eventsIn);
    // The outage was felt (batches failed and were retried), and the recorder came back by itself.
    // (A fast restart may fall between two batches: the pool just drops its dead idle clients.)
    expect(restarts[1].failures).toBeGreaterThan(0);
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
