import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  createKafka,
  ensureTopics,
  isRetriable,
  TimeoutError,
  UnavailableError,
} from '@throughline/platform';
import type { Admin, PartitionMetadata, Producer } from 'kafkajs';
import { GatewaySettings } from './gateway-settings';
import { offsetsOfSend, sendChunks, type OutgoingMessage, type Placement } from './publication';

/** Bounds, in milliseconds, so that a caller gets a 503 instead of a hanging request. */
const SEND_TIMEOUT_MS = 10_000; // one producer.send, retries included
/**
 * Bytes of keys, values and headers per partition in one producer.send. The broker refuses a
 * partition's record batch above its message.max.bytes (1 MiB by default), and 1,000 events for
 * one child with long narratives are well above that; such a batch is split below it into
 * consecutive sends, so one partition's events keep their order. The limit is per partition, as
 * the broker's is: 1,000 events spread over the topic's partitions go in one send, one round trip.
 */
const MAX_PARTITION_SEND_BYTES = 512 * 1024;
const CONNECT_TIMEOUT_MS = 10_000; // connect + ensure topic + read its partitions
const HEALTH_TIMEOUT_MS = 3_000; // one metadata round trip
/**
 * The producer's own retries. kafkajs would retry an idempotent producer forever (and warns that
 * fewer retries weaken its exactly-once guarantee); a caller gets a bounded 503 instead and posts
 * again, which is safe because the recorder appends by event id.
 */
const PRODUCER_RETRY = { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 };

/** Rejects after `ms`; the late outcome of the bounded promise is observed so it cannot go unhandled. */
async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface KafkaHealth {
  readonly topic: string;
  readonly partitions: number;
}

/**
 * The agency topic as an I/O adapter: an idempotent producer (acks from all in-sync replicas,
 * one request in flight so retries cannot reorder) and an admin client for the topic and health.
 * It connects lazily and again after a failure, so the service starts and stays up with Kafka
 * down and recovers when Kafka returns.
 */
@Injectable()
export class KafkaEventPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(KafkaEventPublisher.name);
  private readonly admin: Admin;
  private readonly producer: Producer;
  private connecting: Promise<readonly PartitionMetadata[]> | undefined;
  private closed = false;

  constructor(@Inject(GatewaySettings) private readonly settings: GatewaySettings) {
    const kafka = createKafka(settings.config, settings.agency, {
      clientSuffix: `${settings.agency}-gateway`,
    });
    this.admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 100 } });
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: PRODUCER_RETRY,
    });
  }

  get topic(): string {
    return this.settings.topic;
  }

  /** Ensures the topic at start; with Kafka down the service starts anyway and reports unhealthy. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.partitions();
    } catch (error) {
      this.logger.warn(`started without Kafka (${describe(error)}); reconnecting on the next request`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }

  /** Connects, ensures the topic and reads its partitions, once; a failed attempt is retried on the next call. */
  private partitions(): Promise<readonly PartitionMetadata[]> {
    if (this.closed) return Promise.reject(new UnavailableError('the service is shutting down'));
    this.connecting ??= withTimeout(this.connect(), CONNECT_TIMEOUT_MS, 'connecting to Kafka').catch(
      (error: unknown) => {
        this.connecting = undefined;
        throw this.unavailable('Kafka is unavailable', error);
      },
    );
    return this.connecting;
  }

  private async connect(): Promise<readonly PartitionMetadata[]> {
    await this.admin.connect();
    await ensureTopics(this.admin, [this.topic], this.settings.config.KAFKA_PARTITIONS);
    const partitions = await this.readPartitions();
    await this.producer.connect();
    return partitions;
  }

  private async readPartitions(): Promise<PartitionMetadata[]> {
    const metadata = await this.admin.fetchTopicMetadata({ topics: [this.topic] });
    const partitions = metadata.topics.find((topic) => topic.name === this.topic)?.partitions ?? [];
    if (partitions.length === 0) throw new UnavailableError(`topic ${this.topic} has no partitions yet`);
    return partitions;
  }

  /**
   * Publishes the messages (in as few producer.send calls as the broker's size limit allows, in order) and
   * resolves once Kafka acknowledged all of them.
   * The messages are built by `build` from the topic's partitions (the gateway picks each partition).
   *
   * A send that times out may still land; the caller gets a 503 and posts again with the same
   * event ids. That republishing is safe: the recorder appends idempotently by event id, so a
   * repeated event creates no duplicate downstream.
   */
  async publish(
    build: (partitions: readonly PartitionMetadata[]) => OutgoingMessage[],
  ): Promise<Placement[]> {
    const partitions = await this.partitions();
    const messages = build(partitions);
    if (messages.length === 0) return [];
    try {
      const placements: Placement[] = [];
      for (const chunk of sendChunks(messages, MAX_PARTITION_SEND_BYTES)) {
        const metadata = await withTimeout(
          this.producer.send({
            topic: this.topic,
            acks: -1,
            messages: chunk.map(({ key, value, partition, headers }) => ({ key, value, partition, headers })),
          }),
          SEND_TIMEOUT_MS,
          'sending to Kafka',
        );
        const offsets = offsetsOfSend(
          this.topic,
          chunk.map((message) => message.partition),
          metadata,
        );
        placements.push(...chunk.map((message, i) => ({ partition: message.partition, offset: offsets[i] })));
      }
      return placements;
    } catch (error) {
      // The retry rule: Kafka down, a produce not acknowledged (too few in-sync replicas, timed
      // out) or our own timeout is a 503 with Retry-After; anything else keeps its own row.
      if (!isRetriable(error)) throw error;
      // Reconnect (and re-read partitions) on the next request.
      this.connecting = undefined;
      throw this.unavailable(
        'Kafka did not acknowledge the events; nothing is confirmed, post them again',
        error,
      );
    }
  }

  /** A real round trip to the broker for this service's topic, bounded to a few seconds. */
  async checkHealth(): Promise<KafkaHealth> {
    try {
      const partitions = await withTimeout(this.freshPartitions(), HEALTH_TIMEOUT_MS, 'checking Kafka');
      return { topic: this.topic, partitions: partitions.length };
    } catch (error) {
      throw this.unavailable('Kafka is unavailable', error);
    }
  }

  private async freshPartitions(): Promise<PartitionMetadata[]> {
    await this.partitions();
    try {
      return await this.readPartitions();
    } catch (error) {
      this.connecting = undefined; // the connection went bad: reconnect on the next call
      throw error;
    }
  }

  /** The caller learns Kafka is unavailable; the log keeps the broker's own words. */
  private unavailable(message: string, error: unknown): UnavailableError {
    if (error instanceof UnavailableError) return error;
    this.logger.warn(`${message}: ${describe(error)}`);
    return new UnavailableError(message, error);
  }
}
