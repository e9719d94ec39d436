import { Logger } from '@nestjs/common';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { Client, type Pool } from 'pg';
import {
  backoffDelay,
  createKafka,
  sleep,
  TimeoutError,
  withTransaction,
  type BackoffOptions,
  type Config,
} from '@throughline/platform';
import { accessNotificationsTopic } from './notification';

/** The channel the outbox's insert trigger notifies (migration 001). */
const NOTIFY_CHANNEL = 'access_notification_outbox';

/**
 * The producer's own retries within one send; the relay retries beyond them, for ever, with its
 * own backoff (kafkajs would retry an idempotent producer forever inside one send otherwise).
 */
const PRODUCER_RETRY = { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 };
/** One send, its retries included, in milliseconds: past it the batch is rolled back and retried. */
const SEND_TIMEOUT_MS = 15_000;

export interface AccessNotificationRelayOptions {
  readonly pool: Pool;
  /** KAFKA_* (the `access-notifications-producer` principal, the topic prefix), DATABASE_URL for LISTEN. */
  readonly config: Config;
  /** A client of the caller's instead of createKafka (tests). */
  readonly kafka?: Kafka;
  /** Rows per send. Default 100. */
  readonly batchSize?: number;
  /** Milliseconds between polls when no NOTIFY comes. Default SUBSCRIPTION_IDLE_POLL_MS. */
  readonly idlePollMs?: number;
  /** Pauses between failed attempts (Kafka or PostgreSQL down). Default 200 ms doubling to 30 s. */
  readonly backoff?: BackoffOptions;
}

export interface AccessNotificationRelayStatus {
  readonly running: boolean;
  /** Notifications Kafka acknowledged since start. */
  readonly published: number;
  /** Failed attempts in a row (0 when the last one worked). */
  readonly failures: number;
  /** What the last failure said, while failing. */
  readonly lastError?: string;
}

/**
 * Publishes the outbox to Kafka: unsent rows, oldest first, in batches, each batch locked
 * (FOR UPDATE SKIP LOCKED, so several relays share the work), sent with an idempotent producer
 * (acks from all in-sync replicas; key = the responsible LA's code) and marked sent in the same
 * transaction. A failure rolls the batch back and is retried with backoff for as long as it
 * takes, so a notification outlives any Kafka outage; delivery is at least once (a send whose
 * acknowledgement is lost is sent again), and consumers keep each notification once by its id.
 * Woken by NOTIFY at commit, polling besides; starting never waits for Kafka.
 */
export class AccessNotificationRelay {
  private readonly logger = new Logger('AccessNotificationRelay');
  private readonly topic: string;
  private readonly batchSize: number;
  private readonly idlePollMs: number;
  private readonly backoff: BackoffOptions;
  private producer: Producer | undefined;
  private listener: Client | undefined;
  private loop: Promise<void> | undefined;
  private stopping = new AbortController();
  private wake: AbortController | undefined;
  private woken = false;
  private published = 0;
  private failures = 0;
  private lastError: string | undefined;

  constructor(private readonly options: AccessNotificationRelayOptions) {
    this.topic = accessNotificationsTopic(options.config.KAFKA_TOPIC_PREFIX);
    this.batchSize = options.batchSize ?? 100;
    this.idlePollMs = options.idlePollMs ?? options.config.SUBSCRIPTION_IDLE_POLL_MS;
    this.backoff = options.backoff ?? { initialMs: 200, maxMs: 30_000 };
  }

  /** Starts the loop; resolves at once (Kafka may be down: the outbox waits). Idempotent. */
  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = new AbortController();
    this.loop = this.run();
  }

  /** Finishes the batch in hand, then closes the listener and the producer. Idempotent. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake?.abort();
    await this.loop;
    this.loop = undefined;
  }

  status(): AccessNotificationRelayStatus {
    return {
      running: this.loop !== undefined && !this.stopping.signal.aborted,
      published: this.published,
      failures: this.failures,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Publishes everything unsent now, then resolves with how many went (tests, a drain before shutdown). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const sent = await this.publishBatch();
      total += sent;
      if (sent < this.batchSize) return total;
    }
  }

  private async run(): Promise<void> {
    await this.listen();
    try {
      while (!this.stopping.signal.aborted) {
        this.woken = false;
        let sent: number;
        try {
          sent = await this.publishBatch();
          if (this.failures > 0) this.logger.log(`publishing again after ${this.failures} failed attempts`);
          this.failures = 0;
          this.lastError = undefined;
        } catch (error) {
          this.failures += 1;
          this.lastError = error instanceof Error ? error.message : String(error);
          // The broker's or the database's own words; rows carry no identifiers into the log.
          this.logger.warn(
            `access notifications not published, retrying (attempt ${this.failures}): ${this.lastError}`,
          );
          await this.dropProducer();
          await sleep(backoffDelay(this.failures - 1, this.backoff), this.stopping.signal);
          continue;
        }
        if (sent === this.batchSize || this.woken) continue;
        await this.idle();
      }
    } finally {
      await this.unlisten();
      await this.dropProducer();
    }
  }

  /** One batch: lock unsent rows, send them, mark them sent, commit. Returns the number sent. */
  private async publishBatch(): Promise<number> {
    return withTransaction(this.options.pool, async (client) => {
      const rows = await client.query<{ seq: string; local_authority: string; payload: unknown }>(
        `SELECT seq, local_authority, payload FROM access_notification_outbox
          WHERE sent_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchSize],
      );
      if (rows.rows.length === 0) return 0;
      const producer = await this.connectedProducer();
      const sent: { seq: string; partition: number; offset: string }[] = [];
      // One send per authority: its messages share a key, so one partition, and their offsets follow its base offset.
      for (const [localAuthority, group] of groupBy(rows.rows, (row) => row.local_authority)) {
        const [metadata] = await withTimeout(
          producer.send({
            topic: this.topic,
            acks: -1,
            messages: group.map((row) => ({ key: localAuthority, value: JSON.stringify(row.payload) })),
          }),
          SEND_TIMEOUT_MS,
          'sending access notifications to Kafka',
        );
        const base = BigInt(metadata?.baseOffset ?? -1);
        group.forEach((row, i) =>
          sent.push({
            seq: row.seq,
            partition: metadata?.partition ?? -1,
            offset: base < 0n ? '-1' : (base + BigInt(i)).toString(),
          }),
        );
      }
      await client.query(
        `UPDATE access_notification_outbox o
            SET sent_at = now(), topic = $2, kafka_partition = p.partition, kafka_offset = p.kafka_offset
           FROM unnest($1::bigint[], $3::int[], $4::text[]) AS p(seq, partition, kafka_offset)
          WHERE o.seq = p.seq`,
        [
          sent.map((row) => row.seq),
          this.topic,
          sent.map((row) => row.partition),
          sent.map((row) => row.offset),
        ],
      );
      this.published += sent.length;
      return sent.length;
    });
  }

  private async connectedProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    const kafka =
      this.options.kafka ??
      createKafka(this.options.config, 'access-notifications-producer', {
        clientSuffix: 'access-notifications-relay',
      });
    const producer = kafka.producer({
      // Java's partitioner (murmur2 of the key): one authority's notifications share a partition.
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: PRODUCER_RETRY,
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    this.producer = producer;
    return producer;
  }

  /** A failed send may leave the producer's connection or sequence state bad: the next attempt starts afresh. */
  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private async idle(): Promise<void> {
    this.wake = new AbortController();
    const either = AbortSignal.any([this.wake.signal, this.stopping.signal]);
    await sleep(this.idlePollMs, either);
    this.wake = undefined;
  }

  private notified(): void {
    this.woken = true;
    this.wake?.abort();
  }

  /** LISTEN on a connection of its own; without it the relay still polls, and it reconnects at the next idle. */
  private async listen(): Promise<void> {
    const client = new Client({ connectionString: this.options.config.DATABASE_URL });
    client.on('error', () => this.listenerLost(client));
    client.on('end', () => this.listenerLost(client));
    client.on('notification', (message) => {
      if (message.channel === NOTIFY_CHANNEL) this.notified();
    });
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    } catch {
      this.listenerLost(client);
    }
  }

  private listenerLost(client: Client): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    client.end().catch(() => undefined);
    if (!this.stopping.signal.aborted)
      setTimeout(() => {
        if (!this.listener && !this.stopping.signal.aborted) void this.listen();
      }, this.idlePollMs).unref();
  }

  private async unlisten(): Promise<void> {
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => undefined);
  }
}

/** Items grouped by key, groups in the order their first item came, items in order. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

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
