import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel, type Consumer, type Kafka as KafkaClient, type Producer } from 'kafkajs';
import { grantKafkaAccess, waitFor } from '@throughline/testing';
import { kafkaBrokers, loadConfig } from './config';
import { createKafka, kafkaCredentialsFor, saslOptionsOf, topicNames, type KafkaComponent } from './kafka';

/**
 * On the real broker (npm test's): nothing goes around the gateway. Only authenticated principals
 * connect, and each may touch only its own topics (infra/kafka.mjs accessBindings), on topics of
 * this file's own prefix, granted as the broker grants the deployment's unprefixed ones.
 */
const prefix = `test-acl-${randomBytes(4).toString('hex')}.`;
const config = loadConfig({
  THROUGHLINE_MODE: 'development',
  KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
  KAFKA_TOPIC_PREFIX: prefix,
  RECORDER_GROUP_ID: `${prefix}recorder`,
  KAFKA_PARTITIONS: '1',
  LOG_LEVEL: 'error',
});
const topics = topicNames(prefix);
const notifications = `${prefix}throughline.access-notifications.v1`;
/** One attempt, short timeouts: a refusal must come quickly, not after kafkajs' retries. */
const ONE_TRY = { retries: 0, initialRetryTime: 100 };
const REFUSED_WITHIN_MS = 15_000;
const GROUP_REFUSED = expect.stringMatching(/^(GROUP_AUTHORIZATION_FAILED|KafkaJSGroupCoordinatorNotFound)$/);

const clients: { disconnect(): Promise<void> }[] = [];

function quiet(kafka: KafkaClient): KafkaClient {
  kafka.logger().setLogLevel(logLevel.NOTHING);
  return kafka;
}

function as(component: KafkaComponent): KafkaClient {
  return quiet(createKafka(config, component, { clientSuffix: `acl-${component}`, retry: ONE_TRY }));
}

async function producerOf(kafka: KafkaClient): Promise<Producer> {
  // As the gateway and the recorder produce: idempotent, one request in flight.
  // kafkajs wants retries for an idempotent producer; refusals are not retriable, so they are not retried.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 2 } });
  clients.push(producer);
  await producer.connect();
  return producer;
}

async function send(kafka: KafkaClient, topic: string): Promise<void> {
  const producer = await producerOf(kafka);
  await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: `to ${topic}` }] });
}

interface Refusal {
  /** The names and protocol error types along the error's cause chain (kafkajs wraps what it retried). */
  readonly reasons: readonly string[];
  readonly ms: number;
}

async function refusal(call: () => Promise<unknown>): Promise<Refusal> {
  const started = Date.now();
  try {
    await call();
  } catch (error) {
    const reasons: string[] = [];
    for (let cause = error as { type?: unknown; name?: unknown; cause?: unknown } | undefined; cause;) {
      if (typeof cause.name === 'string') reasons.push(cause.name);
      if (typeof cause.type === 'string') reasons.push(cause.type);
      cause = cause.cause === cause ? undefined : (cause.cause as typeof cause);
    }
    return { reasons, ms: Date.now() - started };
  }
  throw new Error('the call was allowed');
}

async function consumeOne(kafka: KafkaClient, topic: string, groupId: string): Promise<string> {
  const consumer: Consumer = kafka.consumer({ groupId, retry: ONE_TRY });
  clients.push(consumer);
  let crash: Error | undefined;
  // A refused group join does not reject run(): the consumer crashes in the background.
  consumer.on(consumer.events.CRASH, ({ payload }) => (crash = payload.error));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let value: string | undefined;
  await consumer.run({
    eachMessage: ({ message }) => {
      value ??= message.value?.toString();
      return Promise.resolve();
    },
  });
  await waitFor(() => value !== undefined || crash !== undefined, {
    message: `a message on ${topic}`,
    timeoutMs: 30_000,
  });
  if (crash) throw crash;
  await consumer.stop();
  return value!;
}

describe('the secured broker', () => {
  beforeAll(async () => {
    await grantKafkaAccess(config);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.disconnect().catch(() => undefined)));
    const admin = as('test').admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: [...Object.values(topics.agency), topics.deadLetter, notifications] })
      .finally(() => admin.disconnect());
  });

  it('refuses a client without credentials, to produce and to consume, within a bounded time', async () => {
    const anonymous = new Kafka({
      clientId: 'acl-anonymous',
      brokers: kafkaBrokers(config),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3_000,
      requestTimeout: 5_000,
      retry: ONE_TRY,
    });
    const produced = await refusal(async () => {
      const producer = anonymous.producer({ retry: ONE_TRY });
      clients.push(producer);
      await producer.connect();
      await producer.send({ topic: topics.agency.health, messages: [{ value: 'forged' }] });
    });
    expect(produced.ms).toBeLessThan(REFUSED_WITHIN_MS);
    const consumed = await refusal(async () => {
      const consumer = anonymous.consumer({ groupId: `${prefix}anonymous`, retry: ONE_TRY });
      clients.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topics: [topics.agency.health], fromBeginning: true });
    });
    expect(consumed.ms).toBeLessThan(REFUSED_WITHIN_MS);
  });

  it('refuses a wrong password with an authentication error', async () => {
    const health = kafkaCredentialsFor(config, 'health');
    const impostor = new Kafka({
      clientId: 'acl-impostor',
      brokers: kafkaBrokers(config),
      logLevel: logLevel.NOTHING,
      sasl: saslOptionsOf({ ...health, password: 'not-the-password' }),
      retry: ONE_TRY,
    });
    const refused = await refusal(() => send(impostor, topics.agency.health));
    expect(refused.reasons).toContain('KafkaJSSASLAuthenticationError');
    expect(refused.ms).toBeLessThan(REFUSED_WITHIN_MS);
  });

  it("lets an agency service write its own topic, never another agency's", async () => {
    await send(as('education'), topics.agency.education);
    await expect(refusal(() => send(as('education'), topics.agency.health))).resolves.toMatchObject({
      reasons: expect.arrayContaining(['TOPIC_AUTHORIZATION_FAILED']),
    });
    await expect(refusal(() => send(as('health'), topics.deadLetter))).resolves.toMatchObject({
      reasons: expect.arrayContaining(['TOPIC_AUTHORIZATION_FAILED']),
    });
  });

  it('lets the recorder read the agency topics in its group and write dead letters, but write no agency topic', async () => {
    await send(as('health'), topics.agency.health);
    expect(await consumeOne(as('recorder'), topics.agency.health, config.RECORDER_GROUP_ID)).toBe(
      `to ${topics.agency.health}`,
    );
    await send(as('recorder'), topics.deadLetter);
    await expect(refusal(() => send(as('recorder'), topics.agency.health))).resolves.toMatchObject({
      reasons: expect.arrayContaining(['TOPIC_AUTHORIZATION_FAILED']),
    });
    // The broker answers GROUP_AUTHORIZATION_FAILED to FindCoordinator; kafkajs reports it as
    // "Failed to find group coordinator" (its broker pool swallows the reason). The same consumer
    // in the recorder's own group found its coordinator just above.
    await expect(
      refusal(() => consumeOne(as('recorder'), topics.agency.health, `${prefix}another-group`)),
    ).resolves.toMatchObject({ reasons: expect.arrayContaining([GROUP_REFUSED]) });
    // An agency service reads nothing, not even its own topic.
    await expect(
      refusal(() => consumeOne(as('health'), topics.agency.health, config.RECORDER_GROUP_ID)),
    ).resolves.toMatchObject({ reasons: expect.arrayContaining([GROUP_REFUSED]) });
  });

  it('confines the access notifications to their producer and consumer', async () => {
    await send(as('access-notifications-producer'), notifications);
    expect(
      await consumeOne(
        as('access-notifications-consumer'),
        notifications,
        `${prefix}throughline-access-notifications-server`,
      ),
    ).toBe(`to ${notifications}`);
    // Refused on the topic, or earlier on the cluster: an idempotent producer needs IdempotentWrite,
    // which only principals that write something have.
    for (const component of ['health', 'recorder', 'access-notifications-consumer'] as const) {
      await expect(refusal(() => send(as(component), notifications))).resolves.toMatchObject({
        reasons: expect.arrayContaining([expect.stringMatching(/^(TOPIC|CLUSTER)_AUTHORIZATION_FAILED$/)]),
      });
    }
  });

  it("keeps the test principal off a deployment's topics", async () => {
    // Granted by the broker at start for the unprefixed deployment.
    await expect(refusal(() => send(as('test'), 'health.events.v1'))).resolves.toMatchObject({
      reasons: expect.arrayContaining(['TOPIC_AUTHORIZATION_FAILED']),
    });
  });
});
