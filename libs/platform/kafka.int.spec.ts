import { randomBytes } from 'node:crypto';
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
