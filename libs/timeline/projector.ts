import { Logger } from '@nestjs/common';
import { extname, join } from 'node:path';
import type { Pool } from 'pg';
import {
  CheckpointedSubscriptionRunner,
  type EventStore,
  type SubscriptionObserver,
} from '@throughline/event-store';
import { applyPrepared, type BatchResult } from './apply-batch';
import { prepareBatch, type PreparedBatch } from './prepare';
import { PROJECTION_CHECKPOINTS, READ_MODEL_TABLES, truncateTimelineReadModels } from './schema';

export interface TimelineProjectorOptions {
  /** The read-model database (the store's database with the PostgreSQL adapter). Migrated already. */
  readonly pool: Pool;
  readonly store: EventStore;
  /** Names the checkpoint row (config.PROJECTION_NAME). */
  readonly name: string;
  /** Events per transaction. Default the runner's (DEFAULT_SUBSCRIPTION_BATCH_SIZE, 1,000). */
  readonly batchSize?: number;
  /** Per-deployment salt for child keys. Default none: keys are then a plain hash of the founding record. */
  readonly childKeySalt?: string;
  /** Milliseconds before the first retry after a failed batch; doubles (with jitter) up to 30 s. Default 200. */
  readonly retryBackoffMs?: number;
  readonly observer?: SubscriptionObserver;
  /**
   * Batches of at least this many events are read as contracts and made into rows in a worker
   * thread (`prepareEvents`), beside the event loop that applies the batch before; smaller ones
   * (live traffic) on the event loop, where a thread's round trip would only add to their latency.
   * Default PREPARE_THREAD_MIN_EVENTS; Infinity never uses the thread.
   */
  readonly prepareThreadMinEvents?: number;
}

/** Batches from this size up are prepared in the projector's worker thread (catching up, rebuilding). */
export const PREPARE_THREAD_MIN_EVENTS = 100;

/** The compiled or source module beside this one that holds `prepareEvents`. */
const PREPARE_MODULE = join(__dirname, `prepare${extname(__filename)}`);

export interface ProjectionStatus {
  readonly projection: string;
  readonly checkpoint: number;
  readonly head: number;
  readonly lag: number;
  readonly running: boolean;
  readonly skippedEvents: number;
  readonly lastError?: string;
}

/**
 * Keeps the timeline read models up to date: the timeline's batch handler on the checkpointed
 * subscription runner (checkpoint, transaction, retries and waiters are the runner's).
 */
export class TimelineProjector {
  readonly runner: CheckpointedSubscriptionRunner<BatchResult, PreparedBatch>;

  constructor(options: TimelineProjectorOptions) {
    const logger = new Logger('TimelineProjector');
    const salt = options.childKeySalt ?? '';
    const threadFrom = options.prepareThreadMinEvents ?? PREPARE_THREAD_MIN_EVENTS;
    this.runner = new CheckpointedSubscriptionRunner({
      name: options.name,
      description: `projection ${options.name}`,
      pool: options.pool,
      store: options.store,
      checkpoints: PROJECTION_CHECKPOINTS,
      batchSize: options.batchSize,
      retryBackoffMs: options.retryBackoffMs,
      observer: options.observer,
      logger,
      handler: {
        prepare: prepareBatch,
        ...(Number.isFinite(threadFrom) && {
          prepareThread: { module: PREPARE_MODULE, exportName: 'prepareEvents', minEvents: threadFrom },
        }),
        handleBatch: (client, batch, prepared) => applyPrepared(client, options.name, batch, prepared, salt),
        reset: truncateTimelineReadModels,
        tables: READ_MODEL_TABLES,
        committed: (result) => {
          for (const skipped of result.skipped) {
            logger.warn(
              `skipped event ${skipped.eventId} at ${skipped.position} (${skipped.type}): not a valid contract — ${skipped.issues
                .map((issue) => `${issue.path} ${issue.rule}`)
                .join(', ')}`,
            );
          }
        },
      },
    });
  }

  get name(): string {
    return this.runner.name;
  }

  /**
   * Resolves once the first subscription is open (or its first attempt failed and a retry is
   * scheduled). The worker thread starts loading now, beside the first reads.
   */
  start(): Promise<void> {
    return this.runner.start();
  }

  /** Stops after the batch in hand, and ends the worker thread (a later start() begins another). */
  stop(): Promise<void> {
    return this.runner.stop();
  }

  /** Empties the read models and replays the whole store. */
  rebuild(): Promise<void> {
    return this.runner.rebuild();
  }

  isRunning(): boolean {
    return this.runner.isRunning();
  }

  /** Last position whose effects are committed in the read models. */
  committedPosition(): bigint {
    return this.runner.committedPosition();
  }

  /** Resolves when everything up to `position` is in the read models. */
  waitForPosition(position: bigint, timeoutMs?: number): Promise<void> {
    return this.runner.waitForPosition(position, timeoutMs);
  }

  async status(): Promise<ProjectionStatus> {
    const { name, checkpoint, head, lag, running, counters, lastError } = await this.runner.status();
    return {
      projection: name,
      checkpoint,
      head,
      lag,
      running,
      skippedEvents: counters.skipped_events ?? 0,
      ...(lastError ? { lastError } : {}),
    };
  }
}
