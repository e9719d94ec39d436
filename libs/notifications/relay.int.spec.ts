import { randomUUID } from 'node:crypto';
import { logLevel, type Consumer, type Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Principal } from '@throughline/access';
import { createKafka, createPool, loadConfig, type Config } from '@throughline/platform';
import {
  createPrivateKafka,
  createTestDatabase,
  grantKafkaAccess,
  waitFor,
  type PrivateKafka,
  type TestDatabase,
} from '@throughline/testing';
import {
  accessNotificationOf,
  accessNotificationsTopic,
  AccessNotificationRelay,
  migrateNotifications,
  type AccessNotification,
} from './index';

/**
 * The outbox relay on a real, secured broker: it publishes as the access-notifications-producer
 * principal (key = the authority's code), marks rows sent, and outlives a broker that is down
 * when the notification is written.
 */

const HEALTH_VISITOR: Principal = {
  kind: 'person',
  userId: 'demo-health-visitor',
  organisation: { code: 'DEMO-CHS', type: 'health' },
  roles: ['health-visitor'],
};

function notification(localAuthority = '991'): AccessNotification {
  return accessNotificationOf(
    {
      kind: 'looked-after',
      since: '2025-01-05T10:00:00.000Z',
      responsibleLocalAuthority: localAuthority,
      recordIds: [`LA${localAuthority}-000042`],
    },
    {
      childKey: `ch_${randomUUID().replace(/-/g, '').slice(0, 20)}`,
      requester: HEALTH_VISITOR,
      purpose: 'safeguarding',
      breakGlass: false,
    },
  );
}

async function enqueue(pool: Pool, item: AccessNotification): Promise<void> {
  await pool.query(
    'INSERT INTO access_notification_outbox (notification_id, local_authority, payload) VALUES ($1, $2, $3)',
    [item.notificationId, item.responsibleLocalAuthority.code, JSON.stringify(item)],
  );
}

async function sentAt(pool: Pool, notificationId: string): Promise<Date | null> {
  const result = await pool.query<{ sent_at: Date | null }>(
    'SELECT sent_at FROM access_notification_outbox WHERE notification_id = $1',
    [notificationId],
  );
  return result.rows[0]?.sent_at ?? null;
}

/** Reads the topic from the start as the test principal, collecting key and value of each message. */
async function readTopic(
  kafka: Kafka,
  topic: string,
  group: string,
): Promise<{ consumer: Consumer; messages: { key: string; value: AccessNotification }[] }> {
  const consumer = kafka.consumer({ groupId: group });
  const messages: { key: string; value: AccessNotification }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages.push({
        key: message.key?.toString() ?? '',
        value: JSON.parse(message.value?.toString() ?? 'null') as AccessNotification,
      });
    },
  });
  return { consumer, messages };
}

function quiet(kafka: Kafka): Kafka {
  kafka.logger().setLogLevel(logLevel.NOTHING);
  return kafka;
}

describe('the access notification relay', () => {
  let database: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    database = await createTestDatabase('tl_notify_relay');
    pool = createPool(database.url);
    await migrateNotifications(pool);
  });

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('publishes the outbox to the topic, keyed by the authority, and marks each row sent', async () => {
    const run = randomUUID().slice(0, 8);
    const config = loadConfig({
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: database.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
      KAFKA_TOPIC_PREFIX: `it-relay-${run}.`,
      KAFKA_PARTITIONS: '2',
      LOG_LEVEL: 'error',
    });
    await grantKafkaAccess(config); // the topic, and the producer principal's ACL on it
    const items = [notification('991'), notification('992'), notification('991')];
    for (const item of items) await enqueue(pool, item);
    const relay = new AccessNotificationRelay({ pool, config, idlePollMs: 200 });
    const reader = await readTopic(
      quiet(createKafka(config, 'test', { clientSuffix: 'relay-reader' })),
      accessNotificationsTopic(config.KAFKA_TOPIC_PREFIX),
      `it-relay-reader-${run}`,
    );
    try {
      await relay.start();
      await waitFor(
        async () =>
          (await Promise.all(items.map((item) => sentAt(pool, item.notificationId)))).every(Boolean),
        {
          message: 'every outbox row marked sent',
        },
      );
      // A row written while the relay runs is woken by NOTIFY, not left to the poll.
      const late = notification('991');
      await enqueue(pool, late);
      await waitFor(async () => (await sentAt(pool, late.notificationId)) !== null, {
        message: 'the late row sent',
        timeoutMs: 5_000,
      });
      await waitFor(() => reader.messages.length >= 4, { message: 'four messages on the topic' });
      expect(reader.messages.map((message) => message.value.notificationId).sort()).toEqual(
        [...items, late].map((item) => item.notificationId).sort(),
      );
      for (const message of reader.messages) {
        expect(message.key).toBe(message.value.responsibleLocalAuthority.code);
      }
      const placed = await pool.query(
        'SELECT topic, kafka_partition, kafka_offset FROM access_notification_outbox WHERE sent_at IS NOT NULL',
      );
      expect(
        placed.rows.every((row) => row.topic === accessNotificationsTopic(config.KAFKA_TOPIC_PREFIX)),
      ).toBe(true);
      expect(relay.status()).toMatchObject({ running: true, published: 4, failures: 0 });
    } finally {
      await relay.stop();
      await reader.consumer.disconnect();
    }
    expect(relay.status().running).toBe(false);
  });

  describe('across a Kafka outage', () => {
    let broker: PrivateKafka;
    let config: Config;

    beforeAll(async () => {
      broker = await createPrivateKafka();
      await broker.start();
      config = loadConfig({
        THROUGHLINE_MODE: 'development',
        DATABASE_URL: database.url,
        KAFKA_BROKERS: broker.brokers,
        KAFKA_TOPIC_PREFIX: 'test-relay-outage.',
        KAFKA_PARTITIONS: '1',
        LOG_LEVEL: 'error',
      });
      await grantKafkaAccess(config);
    }, 240_000);

    afterAll(async () => {
      await broker?.remove();
    }, 120_000);

    it('keeps a notification written while the broker is down and publishes it once the broker is back', async () => {
      await broker.stop();
      const item = notification('991');
      await enqueue(pool, item);
      const relay = new AccessNotificationRelay({
        pool,
        config,
        kafka: quiet(createKafka(config, 'access-notifications-producer', { retry: { retries: 1 } })),
        idlePollMs: 200,
        backoff: { initialMs: 100, maxMs: 1_000 },
      });
      try {
        await relay.start();
        await waitFor(() => relay.status().failures >= 2, {
          message: 'the relay to fail twice',
          timeoutMs: 60_000,
        });
        expect(await sentAt(pool, item.notificationId)).toBeNull();

        await broker.start();
        await waitFor(async () => (await sentAt(pool, item.notificationId)) !== null, {
          message: 'the notification sent after the broker came back',
          timeoutMs: 120_000,
          intervalMs: 200,
        });
        expect(relay.status().failures).toBe(0);
      } finally {
        await relay.stop();
      }
      const reader = await readTopic(
        quiet(createKafka(config, 'test', { clientSuffix: 'relay-outage-reader' })),
        accessNotificationsTopic(config.KAFKA_TOPIC_PREFIX),
        'test-relay-outage-reader',
      );
      try {
        await waitFor(
          () => reader.messages.some((message) => message.value.notificationId === item.notificationId),
          {
            message: 'the notification on the topic',
          },
        );
        // At least once: a send whose acknowledgement was lost may be repeated; consumers keep one by id.
        expect(
          reader.messages.filter((m) => m.value.notificationId === item.notificationId).length,
        ).toBeGreaterThanOrEqual(1);
      } finally {
        await reader.consumer.disconnect();
      }
    }, 300_000);
  });
});
