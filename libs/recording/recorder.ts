import { Logger } from '@nestjs/common';
import {
  Partitioners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type Kafka,
  type Producer,
} from 'kafkajs';
import { SpanKind } from '@opentelemetry/api';
import type { AppendResult, EventStore, StreamAppend } from '@throughline/event-store';
import {
  AGENCIES,
  TRACEPARENT_HEADER,
  UnavailableError,
  withLinkedSpan,
  RetriesExhaustedError,
  backoffDelay,
  classifyFailure,
  ensureTopics,
  sleep,
  allTopics,
  retryRetriableKafka,
  type AgencyName,
  type TopicNames,
} from '@throughline/platform';
import {
  checkpointNameOf,
  deadLetterOf,
  isRefusedByStore,
  planBatch,
  storeRejectionIssues,
  type BatchPlan,
  type DeadLetter,
  type IncomingBatch,
  type IncomingMessage,
} from './batch-plan';
import { deadLetterKafkaMessage } from './dead-letter-message';

/**
 * What a re-delivered event id is compared on. An imported event (it has a `provenance`) states
 * a fact about the record its id names; the file, year and line it came from, and the subject's
 * identifiers as that file reported them, may differ in next year's return (a UPN corrected):
 * it is still the same event, and the first stays. Anything else is compared whole.
 */
export function comparableEventData(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || !('provenance' in data)) return data;
  const { provenance: _provenance, subject: _subject, ...fact } = data as Record<string, unknown>;
  return fact;
}

/** Where dead letters are kept besides the dead-letter topic (the dead_letters table). */
export interface DeadLetterStore {
  /** Idempotent by Kafka coordinate. */
  record(deadLetters: readonly DeadLetter[]): Promise<number>;
}

export interface RecorderLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface RecorderOptions {
  readonly kafka: Kafka;
  readonly store: EventStore;
  readonly deadLetters: DeadLetterStore;
  readonly groupId: string;
  readonly topics: TopicNames;
  /** Partitions for topics created here when missing. */
  readonly partitions: number;
  readonly logger?: RecorderLogger;
  /**
   * Longest time in milliseconds the broker holds a fetch open when there is nothing new.
   * Stopping waits for it. Default 1000.
   */
  readonly fetchMaxWaitMs?: number;
  /** The clock for dead-letter times and the "not in the future" rule. */
  readonly clock?: () => Date;
  /**
   * Longest time in milliseconds a failing batch is retried (database or broker down, or an
   * unexpected error) before the consumer stops for good: state 'crashed', nothing committed
   * past the failing batch. Default 300000 (RECORDER_MAX_RETRY_MS).
   */
  readonly maxRetryMs?: number;
  /** Longest pause between two attempts; pauses double from 100 ms up to it (with jitter). Default 5000. */
  readonly maxBackoffMs?: number;
  /**
   * Partitions whose batches are recorded at once (kafkajs partitionsConsumedConcurrently).
   * Each partition stays in order; batches of different partitions touch different streams
   * (a subject's events share a key, so a partition) and checkpoints, so they may overlap:
   * one batch is validated while another is in the database. Default 3.
   */
  readonly partitionsConcurrently?: number;
  /** Told after each batch is recorded and committed (for metrics). Must not throw. */
  readonly onBatchRecorded?: (batch: RecordedBatch) => void;
}

export interface RecordedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: number;
  readonly durationMs: number;
}

/**
 * kafkajs retries for the recorder's Kafka client (pass to createKafka): pauses doubling from
 * 100 ms up to 5 s, 12 attempts, about 35 s in all. Enough to ride out a broker restart as the
 * same consumer-group member: with fewer, kafkajs gives up, restarts the consumer as a new
 * member, and the group holds the partitions for the old member until its session times out
 * (30 s) before the new one gets them.
 */
export const RECORDER_KAFKA_RETRY = { initialRetryTime: 100, maxRetryTime: 5_000, retries: 12 } as const;

export const DEFAULT_MAX_RETRY_MS = 300_000;
export const DEFAULT_MAX_BACKOFF_MS = 5_000;
export const DEFAULT_PARTITIONS_CONCURRENTLY = 3;
const FIRST_BACKOFF_MS = 100;
/** A retry pause is cut in slices this long, to heartbeat and to notice a stop. */
const PAUSE_SLICE_MS = 250;

/** Thrown once the recorder has given up on a batch (the retry rule's `stop`): the consumer is not restarted. */
export class RecorderGaveUpError extends RetriesExhaustedError {}

export interface RecorderMetrics {
  readonly messagesConsumed: number;
  readonly eventsStored: number;
  readonly duplicatesSkipped: number;
  readonly deadLettered: number;
  /** Redelivered messages below the stored checkpoint, skipped without touching the store. */
  readonly alreadyRecordedSkipped: number;
  readonly batches: number;
  /** Batches the store refused as a whole, then appended message by message. */
  readonly batchesIsolated: number;
  /** Failed batch attempts (database or broker down, or unexpected), each retried after a pause. */
  readonly retriableFailures: number;
  /** When the batch being retried first failed (ISO-8601); null while batches succeed. */
  readonly failingSince: string | null;
  readonly lastBatchMs: number | null;
  readonly lastBatchAt: string | null;
  /** `topic:partition` → messages behind the high watermark after the last batch. */
  readonly lag: Readonly<Record<string, number>>;
}

export type RecorderState = 'idle' | 'starting' | 'running' | 'crashed' | 'stopping' | 'stopped';

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    decoded[name] = values.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v))).join(',');
  }
  return decoded;
}

function batchAttributes(batch: EachBatchPayload['batch']) {
  return {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.destination.name': batch.topic,
    'messaging.destination.partition.id': String(batch.partition),
    'messaging.batch.message_count': batch.messages.length,
  };
}

function countStored(results: readonly AppendResult[]): { stored: number; duplicates: number } {
  let stored = 0;
  let duplicates = 0;
  for (const result of results) {
    stored += result.positions.length - result.duplicateEventIds.length;
    duplicates += result.duplicateEventIds.length;
  }
  return { stored, duplicates };
}

/**
 * Kafka → event store with an exactly-once effect. Per batch (one topic-partition):
 * validate again, dead-letter the invalid (topic and table) first, then append the valid
 * events and the partition's next offset in one store transaction, then commit the offset
 * to Kafka. A crash anywhere redelivers; redelivery is harmless because dead letters are
 * idempotent by coordinate, appends by event id, and offsets below the stored checkpoint
 * are skipped.
 */
export class Recorder {
  private readonly logger: RecorderLogger;
  private readonly clock: () => Date;
  private readonly agencyOfTopic: ReadonlyMap<string, AgencyName>;
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private state: RecorderState = 'idle';
  private counters = {
    messagesConsumed: 0,
    eventsStored: 0,
    duplicatesSkipped: 0,
    deadLettered: 0,
    alreadyRecordedSkipped: 0,
    batches: 0,
    batchesIsolated: 0,
    retriableFailures: 0,
  };
  private lastBatchMs: number | null = null;
  private lastBatchAt: Date | null = null;
  private readonly lag = new Map<string, number>();
  private kafkaClusterId: string | undefined;
  private failingSince: number | undefined;
  private gaveUp: RecorderGaveUpError | undefined;

  constructor(private readonly options: RecorderOptions) {
    this.logger = options.logger ?? new Logger('recorder');
    this.clock = options.clock ?? (() => new Date());
    this.agencyOfTopic = new Map(AGENCIES.map((agency) => [options.topics.agency[agency], agency]));
  }

  get groupId(): string {
    return this.options.groupId;
  }

  /** The id of the Kafka cluster being recorded; known once start() has connected. */
  get clusterId(): string {
    if (this.kafkaClusterId === undefined) throw new Error('the recorder has not connected to Kafka yet');
    return this.kafkaClusterId;
  }

  /** The store's checkpoint row for one partition of this recorder's group and cluster. */
  checkpointNameOf(topic: string, partition: number): string {
    return checkpointNameOf(this.clusterId, this.options.groupId, topic, partition);
  }

  /** true while the consumer is up (or retrying a failing batch within the bound). */
  isRunning(): boolean {
    return this.state === 'running';
  }

  currentState(): RecorderState {
    return this.state;
  }

  metrics(): RecorderMetrics {
    return {
      ...this.counters,
      lastBatchMs: this.lastBatchMs,
      lastBatchAt: this.lastBatchAt?.toISOString() ?? null,
      lag: Object.fromEntries(this.lag),
      failingSince: this.failingSince === undefined ? null : new Date(this.failingSince).toISOString(),
    };
  }

  /** Creates missing topics, restores the group's offsets from the store, then consumes. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`recorder cannot start from state ${this.state}`);
    this.state = 'starting';
    const { kafka, topics, groupId } = this.options;
    const agencyTopics = AGENCIES.map((agency) => topics.agency[agency]);
    try {
      const admin = kafka.admin();
      await admin.connect();
      try {
        this.kafkaClusterId = (await admin.describeCluster()).clusterId;
        await ensureTopics(admin, allTopics(topics), this.options.partitions);
        await this.restoreCommittedOffsets(admin, agencyTopics);
      } finally {
        await admin.disconnect();
      }

      // Idempotent, acks=-1: a dead letter is on every in-sync replica before the offset moves past it.
      this.producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await this.producer.connect();

      const consumer = kafka.consumer({
        groupId,
        maxWaitTimeInMs: this.options.fetchMaxWaitMs ?? 1000,
        // Once the recorder has given up, kafkajs must not restart the consumer.
        retry: { initialRetryTime: 100, retries: 5, restartOnFailure: () => Promise.resolve(!this.gaveUp) },
      });
      this.consumer = consumer;
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        this.logger.error(
          `consumer crashed (${payload.restart ? 'restarting' : 'NOT restarting'}): ${payload.error.message}`,
        );
        if (!payload.restart) this.state = 'crashed';
      });
      await consumer.connect();
      await consumer.subscribe({ topics: agencyTopics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently:
          this.options.partitionsConcurrently ?? DEFAULT_PARTITIONS_CONCURRENTLY,
        eachBatch: (payload) => this.recordBatch(payload),
      });
      this.state = 'running';
      this.logger.log(
        `recording ${agencyTopics.join(', ')} of cluster ${this.clusterId} as group ${groupId}`,
      );
    } catch (error) {
      this.state = 'crashed';
      await this.disconnect();
      throw error;
    }
  }

  /** Stops after the batch in hand (its offsets are stored and committed), then disconnects. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    await this.disconnect();
    this.state = 'stopped';
  }

  private async disconnect(): Promise<void> {
    // Consumer first: its in-flight batch finishes (and may still produce dead letters and commit).
    await this.consumer?.disconnect();
    this.consumer = undefined;
    await this.producer?.disconnect();
    this.producer = undefined;
  }

  /**
   * The store is the system of record for offsets: before joining, the group's committed
   * offsets are set to the checkpoints stored with the events (or the earliest offset where
   * nothing is stored), so a crash between the database commit and the Kafka commit costs
   * no re-reading, and a Kafka offset that got ahead of the store (lost database) is undone.
   *
   * Limits: admin.setOffsets only works while the group has no active member. With several
   * recorder instances, one starting while others run cannot reset offsets (it logs and
   * goes on), and partitions moving between members in a rebalance start from the Kafka
   * committed offset. That stays correct, not just fast, because every batch reads its
   * partition's stored checkpoint and skips what is below it, and appends are idempotent by
   * event id; but two members briefly owning one partition could each append the same new
   * offsets' events once (deduplicated) and race on the checkpoint row. A compare-and-set
   * on the checkpoint inside the append transaction would close that; a later issue.
   */
  private async restoreCommittedOffsets(admin: Admin, agencyTopics: readonly string[]): Promise<void> {
    const { store, groupId } = this.options;
    const committed = await retryRetriableKafka(`fetching ${groupId}'s committed offsets`, () =>
      admin.fetchOffsets({ groupId, topics: [...agencyTopics] }),
    );
    for (const topic of agencyTopics) {
      const committedOf = new Map(
        committed.find((entry) => entry.topic === topic)?.partitions.map((p) => [p.partition, p.offset]) ??
          [],
      );
      const watermarks = await retryRetriableKafka(`fetching ${topic}'s offsets`, () =>
        admin.fetchTopicOffsets(topic),
      );
      const partitions = await Promise.all(
        watermarks.map(async ({ partition, low, high }) => {
          const stored = await store.readCheckpoint(this.checkpointNameOf(topic, partition));
          if (stored !== undefined && BigInt(stored) > BigInt(high)) {
            this.logger.warn(
              `${topic}:${partition}: stored checkpoint ${stored} is past the end of the partition (${high}); ` +
                'was the topic deleted and recreated in this cluster? Offsets below the checkpoint will be skipped.',
            );
          }
          const kafkaOffset = committedOf.get(partition) ?? '-1';
          // Nothing stored and nothing committed: fromBeginning already starts at the earliest.
          const inStep = stored === undefined ? kafkaOffset === '-1' : kafkaOffset === stored;
          return { partition, offset: stored ?? low, inStep };
        }),
      );
      // setOffsets joins the group with a paused consumer and costs seconds: only when needed.
      if (partitions.every((p) => p.inStep)) continue;
      try {
        await admin.setOffsets({
          groupId,
          topic,
          partitions: partitions.map(({ partition, offset }) => ({ partition, offset })),
        });
        this.logger.log(`${groupId}: offsets on ${topic} set from the store`);
      } catch (error) {
        this.logger.warn(
          `could not set ${groupId}'s offsets on ${topic} from the store (${(error as Error).message}); ` +
            'starting from the Kafka committed offsets, skipping what the store already holds',
        );
      }
    }
  }

  /**
   * Records one batch, retrying it in place with doubling pauses (heartbeating meanwhile)
   * while it fails, for at most maxRetryMs since its first failure. Past that bound the
   * recorder gives up loudly: state 'crashed', and the consumer stops without committing
   * anything past the failing batch, rather than loop for ever.
   */
  private async recordBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale } = payload;
    if (this.gaveUp) throw this.gaveUp;
    const maxRetryMs = this.options.maxRetryMs ?? DEFAULT_MAX_RETRY_MS;
    const maxBackoffMs = this.options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    for (let attempt = 0; ; attempt += 1) {
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      try {
        // One span per batch attempt, linked to each message's trace: never a span per message.
        await withLinkedSpan(
          `process ${batch.topic}`,
          batch.messages.map((message) => message.headers?.[TRACEPARENT_HEADER]),
          { kind: SpanKind.CONSUMER, attributes: batchAttributes(batch) },
          () => this.recordBatchOnce(payload),
        );
        this.failingSince = undefined;
        return;
      } catch (error) {
        this.counters.retriableFailures += 1;
        const now = Date.now();
        this.failingSince ??= now;
        const failingFor = now - this.failingSince;
        const where = `batch ${batch.topic}:${batch.partition} from offset ${batch.firstOffset()}`;
        // The retry rule: `stop` gives up at once; anything else is retried within the bound
        // (a refused event never gets here: it is dead-lettered by append()).
        const { action, reason } = classifyFailure(error);
        const kind = reason === 'unexpected' ? 'UNEXPECTED failure' : `retriable failure (${reason})`;
        const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
        const lastError = error instanceof Error ? error.message : String(error);
        if (action === 'stop' || failingFor >= maxRetryMs) {
          this.state = 'crashed';
          this.gaveUp = new RecorderGaveUpError(
            action === 'stop'
              ? `${where}: ${reason}, which no retry can fix; the recorder STOPS consuming. Last error: ${lastError}`
              : `${where}: still failing after ${failingFor} ms (RECORDER_MAX_RETRY_MS ${maxRetryMs}); ` +
                  `the recorder STOPS consuming. Last error: ${lastError}`,
            error,
          );
          this.logger.error(
            `GIVING UP: ${this.gaveUp.message}. Nothing past the failing batch is committed; fix the cause ` +
              `and restart the recorder. ${detail}`,
          );
          throw this.gaveUp;
        }
        const pause = Math.min(
          backoffDelay(attempt, { initialMs: FIRST_BACKOFF_MS, maxMs: maxBackoffMs }),
          maxRetryMs - failingFor,
        );
        this.logger.error(
          `${where}: ${kind} (attempt ${attempt + 1}, failing for ${failingFor} ms), offsets not committed, ` +
            `retrying in ${pause} ms: ${detail}`,
        );
        for (let waited = 0; waited < pause; waited += PAUSE_SLICE_MS) {
          if (!isRunning() || isStale()) return;
          await sleep(Math.min(PAUSE_SLICE_MS, pause - waited));
          await heartbeat();
        }
      }
    }
  }

  private async recordBatchOnce(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat } = payload;
    const started = Date.now();
    const { topic, partition } = batch;
    const agency = this.agencyOfTopic.get(topic);
    if (agency === undefined) throw new Error(`recorder is not subscribed to ${topic}`);

    const messages: IncomingMessage[] = batch.messages.map((message) => ({
      offset: message.offset,
      key: message.key ?? null,
      value: message.value ?? null,
      headers: decodeHeaders(message.headers),
      timestamp: message.timestamp,
    }));
    const { store, groupId } = this.options;
    const incoming: IncomingBatch = {
      clusterId: this.clusterId,
      groupId,
      topic,
      partition,
      agency,
      messages,
      storedCheckpoint: await store.readCheckpoint(this.checkpointNameOf(topic, partition)),
      now: this.clock(),
    };
    const plan = planBatch(incoming);

    // Dead letters first: the append below moves the offset past them.
    await this.deadLetter(plan.deadLetters);
    if (Object.keys(plan.checkpoints).length > 0) await this.append(incoming, plan);

    await this.consumerOrThrow().commitOffsets([{ topic, partition, offset: plan.nextOffset }]);
    resolveOffset(batch.lastOffset());
    await heartbeat();

    this.counters.batches += 1;
    this.counters.messagesConsumed += messages.length;
    this.counters.alreadyRecordedSkipped += plan.alreadyRecorded.length;
    this.lastBatchMs = Date.now() - started;
    this.lastBatchAt = new Date();
    this.lag.set(
      `${topic}:${partition}`,
      Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(plan.nextOffset))),
    );
    this.options.onBatchRecorded?.({
      topic,
      partition,
      messages: messages.length,
      durationMs: this.lastBatchMs,
    });
  }

  private consumerOrThrow(): Consumer {
    if (!this.consumer) throw new UnavailableError('recorder consumer is not connected');
    return this.consumer;
  }

  private async deadLetter(deadLetters: readonly DeadLetter[]): Promise<void> {
    if (deadLetters.length === 0) return;
    if (!this.producer) throw new UnavailableError('dead-letter producer is not connected');
    await this.producer.send({
      topic: this.options.topics.deadLetter,
      acks: -1,
      messages: deadLetters.map(deadLetterKafkaMessage),
    });
    await this.options.deadLetters.record(deadLetters);
    this.counters.deadLettered += deadLetters.length;
    for (const deadLetter of deadLetters) {
      this.logger.warn(
        `dead-lettered ${deadLetter.topic}:${deadLetter.partition}@${deadLetter.offset} (${deadLetter.reason}): ` +
          deadLetter.issues.map((issue) => `${issue.path || '(value)'} ${issue.rule}`).join('; '),
      );
    }
  }

  /** One transaction for the batch; if the store refuses it for good, message by message. */
  private async append(incoming: IncomingBatch, plan: BatchPlan): Promise<void> {
    try {
      const results = await this.options.store.appendMany(plan.appends, {
        checkpoints: plan.checkpoints,
        comparableData: comparableEventData,
      });
      this.count(results);
    } catch (error) {
      if (!isRefusedByStore(error)) throw error;
      this.counters.batchesIsolated += 1;
      this.logger.warn(
        `store refused batch ${incoming.topic}:${incoming.partition} (${(error as Error).message}); appending one by one`,
      );
      await this.appendOneByOne(incoming, plan);
    }
  }

  private async appendOneByOne(incoming: IncomingBatch, plan: BatchPlan): Promise<void> {
    const { store } = this.options;
    for (const accepted of plan.accepted) {
      const checkpoints = { [plan.checkpointName]: (BigInt(accepted.offset) + 1n).toString() };
      const single: StreamAppend = {
        streamId: accepted.streamId,
        events: [accepted.event],
        expectedRevision: 'any',
      };
      try {
        this.count(await store.appendMany([single], { checkpoints, comparableData: comparableEventData }));
      } catch (error) {
        if (!isRefusedByStore(error)) throw error;
        const issues = storeRejectionIssues(error);
        await this.deadLetter([
          deadLetterOf(incoming, accepted.message, 'store-rejected', issues, incoming.now),
        ]);
        await store.appendMany([], { checkpoints });
      }
    }
    // Trailing dead letters and skipped offsets: move the checkpoint to the end of the batch.
    await store.appendMany([], { checkpoints: plan.checkpoints });
  }

  private count(results: readonly AppendResult[]): void {
    const { stored, duplicates } = countStored(results);
    this.counters.eventsStored += stored;
    this.counters.duplicatesSkipped += duplicates;
  }
}
