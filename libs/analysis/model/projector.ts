import { Logger } from '@nestjs/common';
import type { Pool } from 'pg';
import {
  CheckpointedSubscriptionRunner,
  type EventStore,
  type SubscriptionObserver,
} from '@throughline/event-store';
import {
  applyPreparedAnalysis,
  prepareAnalysisBatch,
  type AnalysisBatchResult,
  type PreparedAnalysisBatch,
} from './apply-batch';
import { Pseudonymiser } from './cut';
import { ANALYSIS_CHECKPOINTS, ANALYSIS_MODEL_TABLES, truncateAnalysisModel } from './schema';

/** The analysis model's checkpoint name. */
export const ANALYSIS_PROJECTION = 'analysis';

export interface AnalysisProjectorOptions {
  /** The read-model database, migrated already (migrateAnalysis). */
  readonly pool: Pool;
  readonly store: EventStore;
  /** The keyed hash's key (ANALYSIS_PSEUDONYM_KEY): pseudonyms change if it does. */
  readonly pseudonymKey: string;
  /** Names the checkpoint row. Default `analysis`. */
  readonly name?: string;
  /** Events per transaction. Default the runner's (DEFAULT_SUBSCRIPTION_BATCH_SIZE, 1,000). */
  readonly batchSize?: number;
  /** Milliseconds before the first retry after a failed batch. Default 200. */
  readonly retryBackoffMs?: number;
  readonly observer?: SubscriptionObserver;
}

export interface AnalysisModelStatus {
  readonly projection: string;
  readonly checkpoint: number;
  readonly head: number;
  readonly lag: number;
  readonly running: boolean;
  readonly skippedEvents: number;
  readonly lastError?: string;
}

/**
 * Keeps the pseudonymised analysis model current: its batch handler on the checkpointed
 * subscription runner, with a checkpoint of its own (decision 008).
 */
export class AnalysisProjector {
  readonly runner: CheckpointedSubscriptionRunner<AnalysisBatchResult, PreparedAnalysisBatch>;

  constructor(options: AnalysisProjectorOptions) {
    const logger = new Logger('AnalysisProjector');
    const pseudonymiser = new Pseudonymiser(options.pseudonymKey);
    const name = options.name ?? ANALYSIS_PROJECTION;
    this.runner = new CheckpointedSubscriptionRunner({
      name,
      description: `analysis model ${name}`,
      pool: options.pool,
      store: options.store,
      checkpoints: ANALYSIS_CHECKPOINTS,
      batchSize: options.batchSize,
      retryBackoffMs: options.retryBackoffMs,
      observer: options.observer,
      logger,
      handler: {
        prepare: (batch) => prepareAnalysisBatch(batch, pseudonymiser),
        handleBatch: (client, _batch, prepared) => applyPreparedAnalysis(client, prepared, pseudonymiser),
        reset: truncateAnalysisModel,
        tables: ANALYSIS_MODEL_TABLES,
        committed: (result) => {
          // Positions and types only: the analysis model's log names no child.
          if (result.skipped > 0)
            logger.warn(`skipped ${result.skipped} events that are not a valid contract`);
        },
      },
    });
  }

  get name(): string {
    return this.runner.name;
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  /** Empties the analysis model and replays the whole store. */
  rebuild(): Promise<void> {
    return this.runner.rebuild();
  }

  committedPosition(): bigint {
    return this.runner.committedPosition();
  }

  waitForPosition(position: bigint, timeoutMs?: number): Promise<void> {
    return this.runner.waitForPosition(position, timeoutMs);
  }

  async status(): Promise<AnalysisModelStatus> {
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
