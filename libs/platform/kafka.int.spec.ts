import { createHook } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Partitioners, type Admin } from 'kafkajs';
import { loadConfig } from './config';
import { allTopics, createKafka, ensureTopics, topicNames } from './kafka';

/** On the real broker: the apps of `npm start` all ensure the same topics at the same moment. */
describe('ensureTopics', () => {
  const config = loadConfig({ THROUGHLINE_MODE: 'development', LOG_LEVEL: 'error' });
  const kafka = createKafka(config, 'test', { clientSuffix: 'platform-test' });
  const admins: Admin[] = [];

  afterAll(async () => {
    await Promise.all(admins.map((admin) => admin.disconnect()));
  });

  it('lets several apps create the same topics at once, and each can produce as soon as it returns', async () => {
    const prefix = `test-platform-${randomBytes(4).toString('hex')}.`;
    const topics = allTopics(topicNames(prefix));
    const racers = [1, 2, 3].map(() => kafka.admin());
    admins.push(...racers);
    await Promise.all(racers.map((admin) => admin.connect()));

    await Promise.all(
      racers.map(async (admin, index) => {
        await ensureTopics(admin, topics, 3);
        const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
        await producer.connect();
        try {
          // As the apps produce: acks from every partition, right after ensureTopics returned.
          await producer.send({
            topic: topics[index],
            acks: -1,
            messages: [0, 1, 2].map((partition) => ({ partition, value: `ready ${partition}` })),
          });
        } finally {
          await producer.disconnect();
        }
      }),
    );

    const metadata = await racers[0].fetchTopicMetadata({ topics });
    expect(metadata.topics.map((topic) => topic.partitions.length)).toEqual(topics.map(() => 3));
    for (const topic of topics.slice(0, 3)) {
      const offsets = await racers[0].fetchTopicOffsets(topic);
      expect(offsets.map((p) => p.high).sort()).toEqual(['1', '1', '1']);
    }
    await racers[0].deleteTopics({ topics });
  });
});

/**
 * On the real broker: a connected producer with nothing to send leaves the event loop asleep.
 * kafkajs 2.2.4 as published set a 1 ms timer after every answer, for as long as the connection
 * lived (kafkajs#1556): about 1,000 wake-ups a second in every app, 45-50 ms of CPU a second each
 * when idle. `patches/kafkajs+2.2.4.patch` stops it (decision 044).
 */
describe('an idle kafkajs connection', () => {
  const config = loadConfig({ THROUGHLINE_MODE: 'development', LOG_LEVEL: 'error' });
  const kafka = createKafka(config, 'test', { clientSuffix: 'platform-idle' });

  it('sets no timers while a connected producer has nothing to send', async () => {
    const topic = `test-platform-idle-${randomBytes(4).toString('hex')}`;
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await admin.connect();
    await producer.connect();
    try {
      await ensureTopics(admin, [topic], 1);
      await producer.send({ topic, acks: -1, messages: [{ value: 'one' }] });

      let timers = 0;
      const hook = createHook({
        init: (_id, type) => {
          if (type === 'Timeout') timers++;
        },
      });
      hook.enable();
      await delay(500);
      hook.disable();
      // Unpatched: one a millisecond for each of the producer's and the admin's connections.
      expect(timers).toBeLessThan(20);
    } finally {
      await admin.deleteTopics({ topics: [topic] });
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
