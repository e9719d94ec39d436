import type { Admin, Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { ensureTopics } from '@throughline/platform';
import { pollUntil, withDeadline } from './deadline';
import { fireAtFixedRate } from './pacing';
import { gatewayLikeHeaders, type BenchEvent } from './payloads';
import { elapsedMs, perSecond, summariseLatencies, type LatencySummary } from './stats';

/**
 * The Kafka ceilings: plain kafkajs, no Throughline code, the same JSON payloads and keys the
 * agency services produce, with the same producer guarantees (idempotent, acks = all).
 */

export interface KafkaRawSetup {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly topic: string;
  readonly partitions: number;
  readonly timeoutMs: number;
}

export interface KafkaThroughput {
  readonly eventsPerSecond: number;
  /** First send to last message consumed. */
  readonly elapsedMs: number;
  /** First send to last batch acknowledged. */
  readonly produceMs: number;
}

function idempotentProducer(kafka: Kafka): Producer {
  // kafkajs requires one request in flight for an idempotent producer, as the gateway uses.
  return kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
}

/** A consumer group on a fresh topic, joined and reading from the start before anything is sent. */
async function joinedConsumer(
  kafka: Kafka,
  topic: string,
  onBatch: (messages: readonly KafkaMessage[]) => void,
): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: `${topic}.reader` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => {
    const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
      remove();
      resolve();
    });
  });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      onBatch(batch.messages);
    },
  });
  await joined;
  return consumer;
}

/** Produce in batches (sendBatch) and consume with a consumer group at the same time; time the whole trip. */
export async function measureKafkaThroughput(
  setup: KafkaRawSetup,
  events: readonly BenchEvent[],
  batchSize: number,
): Promise<KafkaThroughput> {
  await ensureTopics(setup.admin, [setup.topic], setup.partitions);
  let consumed = 0;
  let lastConsumedAt = 0n;
  const consumer = await joinedConsumer(setup.kafka, setup.topic, (messages) => {
    consumed += messages.length;
    if (consumed >= events.length && lastConsumedAt === 0n) lastConsumedAt = process.hrtime.bigint();
  });
  const producer = idempotentProducer(setup.kafka);
  try {
    await producer.connect();
    return await withDeadline('kafka.raw', setup.timeoutMs, async (signal) => {
      const start = process.hrtime.bigint();
      for (let offset = 0; offset < events.length; offset += batchSize) {
        signal.throwIfAborted();
        const messages = events.slice(offset, offset + batchSize).map((event) => ({
          key: event.key,
          value: event.json,
          headers: gatewayLikeHeaders(event, 'bench'),
        }));
        await producer.sendBatch({ topicMessages: [{ topic: setup.topic, messages }], acks: -1 });
      }
      const produceMs = elapsedMs(start);
      await pollUntil(async () => lastConsumedAt !== 0n, {
        stage: 'kafka.raw consume',
        timeoutMs: setup.timeoutMs,
        intervalMs: 1,
      });
      if (consumed !== events.length)
        throw new Error(`kafka.raw consumed ${consumed} of ${events.length} messages`);
      const elapsed = elapsedMs(start, lastConsumedAt);
      return { eventsPerSecond: perSecond(events.length, elapsed), elapsedMs: elapsed, produceMs };
    });
  } finally {
    await producer.disconnect();
    await consumer.disconnect();
  }
}

const SEQUENCE_HEADER = 'bench-sequence';

/**
 * Single messages at a fixed rate, each timed from the send() call to its arrival at a
 * consumer group's eachBatch: the reference for the end-to-end latency.
 */
export async function measureKafkaLatency(
  setup: KafkaRawSetup,
  events: readonly BenchEvent[],
  ratePerSecond: number,
): Promise<LatencySummary> {
  await ensureTopics(setup.admin, [setup.topic], setup.partitions);
  const sentAt = new Map<string, bigint>();
  const latencies: number[] = [];
  let strangers = 0;
  const consumer = await joinedConsumer(setup.kafka, setup.topic, (messages) => {
    const now = process.hrtime.bigint();
    for (const message of messages) {
      const sent = sentAt.get(message.headers?.[SEQUENCE_HEADER]?.toString() ?? '');
      if (sent === undefined) strangers++;
      else latencies.push(elapsedMs(sent, now));
    }
  });
  const producer = idempotentProducer(setup.kafka);
  try {
    await producer.connect();
    return await withDeadline('kafka.raw.latency', setup.timeoutMs, async (signal) => {
      await fireAtFixedRate(
        events.length,
        ratePerSecond,
        async (index) => {
          const sequence = String(index);
          const event = events[index];
          sentAt.set(sequence, process.hrtime.bigint());
          await producer.send({
            topic: setup.topic,
            acks: -1,
            messages: [
              {
                key: event.key,
                value: event.json,
                headers: { ...gatewayLikeHeaders(event, 'bench'), [SEQUENCE_HEADER]: sequence },
              },
            ],
          });
        },
        signal,
      );
      await pollUntil(async () => latencies.length + strangers >= events.length, {
        stage: 'kafka.raw.latency consume',
        timeoutMs: setup.timeoutMs,
        intervalMs: 5,
      });
      if (strangers > 0) throw new Error(`kafka.raw.latency received ${strangers} messages it did not send`);
      return summariseLatencies(latencies);
    });
  } finally {
    await producer.disconnect();
    await consumer.disconnect();
  }
}
