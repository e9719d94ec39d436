import { Logger } from '@nestjs/common';
import type { ClientBase, Pool } from 'pg';
import {
  CheckpointedSubscriptionRunner,
  checkpointTable,
  type EventStore,
  type SubscriptionObserver,
} from '@throughline/event-store';
import {
  migrate,
  migrationsDirectory,
  readMigrations,
  type MigrateOptions,
  withTransaction,
} from '@throughline/platform';
import { linkBatch, type LinkBatchResult } from './link-batch';
import type { CandidateLimits } from './linker-state';
import { DEFAULT_MATCH_MODEL, type MatchModel } from './probabilistic';

export function identityMigrationsDirectory(): string {
  return migrationsDirectory('identity');
}

/**
 * Applies the identity migrations on `pool` (the owner's) and, given the apps' role, grants it
 * what migrations/grants.sql says (docs/decisions/011-database-roles.md).
 */
export async function migrateIdentity(pool: Pool, options: MigrateOptions = {}): Promise<number[]> {
  return migrate(pool, 'identity', readMigrations(identityMigrationsDirectory()), options);
}

/** The linker's state tables (not the audit log): emptied to replay the linker from zero. */
export const LINKER_STATE_TABLES = [
  'identity_subjects',
  'identity_subject_keys',
  'identity_pairs',
  'identity_proposals',
  'identity_conflicts',
] as const;

export const DEFAULT_LINKER_NAME = 'identity-linker';
/**
 * Events per batch transaction, as the projector's. A batch costs a few round trips of its own
 * (checkpoint, the subjects it touches, the last-seen update, commit): 500 caught up a few per
 * cent faster than 200 on synthetic cohorts, 1,000 hardly more.
 */
export const DEFAULT_LINKER_BATCH_SIZE = 500;

const LINKER_CHECKPOINTS = checkpointTable<LinkBatchResult>('identity_linker_checkpoints');

async function truncateLinkerState(client: ClientBase): Promise<void> {
  await client.query(`TRUNCATE ${LINKER_STATE_TABLES.join(', ')}`);
}

/** Empties the linker's state and resets its checkpoint, so it replays the whole store. Not while running. */
export async function resetIdentityLinker(pool: Pool, name = DEFAULT_LINKER_NAME): Promise<void> {
  await withTransaction(pool, async (client) => {
    await truncateLinkerState(client);
    await LINKER_CHECKPOINTS.reset(client, name);
  });
}

export interface IdentityLinkerOptions {
  /** The database holding the linker's state (migrated already with migrateIdentity). */
  readonly pool: Pool;
  readonly store: EventStore;
  /** Names the checkpoint row. Default `identity-linker`: one linker per database. */
  readonly name?: string;
  /** Events per transaction. Default 500 (DEFAULT_LINKER_BATCH_SIZE). */
  readonly batchSize?: number;
  /** Milliseconds before the first retry after a failed batch; doubles (with jitter) up to 30 s. Default 200. */
  readonly retryBackoffMs?: number;
  readonly model?: MatchModel;
  /** How far a record's candidates reach (decision 026). Default DEFAULT_CANDIDATE_LIMITS. */
  readonly candidateLimits?: CandidateLimits;
  readonly observer?: SubscriptionObserver;
}

export interface LinkerStatus {
  readonly linker: string;
  readonly checkpoint: number;
  readonly head: number;
  readonly lag: number;
  readonly running: boolean;
  /** Identity events this linker appended since it started (re-appends after a failure not counted). */
  readonly appendedEvents: number;
  readonly lastError?: string;
}

/**
 * The identity linker: the linking batch handler on the checkpointed subscription runner. Each
 * batch's state and checkpoint are committed in one transaction (after its appends).
 */
export class IdentityLinker {
  readonly runner: CheckpointedSubscriptionRunner<LinkBatchResult>;
  private appendedEvents = 0;

  constructor(options: IdentityLinkerOptions) {
    const logger = new Logger('IdentityLinker');
    const model = options.model ?? DEFAULT_MATCH_MODEL;
    this.runner = new CheckpointedSubscriptionRunner({
      name: options.name ?? DEFAULT_LINKER_NAME,
      description: 'identity linker',
      pool: options.pool,
      store: options.store,
      checkpoints: LINKER_CHECKPOINTS,
      batchSize: options.batchSize ?? DEFAULT_LINKER_BATCH_SIZE,
      retryBackoffMs: options.retryBackoffMs,
      observer: options.observer,
      logger,
      handler: {
        handleBatch: (client, batch) =>
          linkBatch(client, options.store, batch, model, logger, options.candidateLimits),
        reset: truncateLinkerState,
        tables: LINKER_STATE_TABLES,
        committed: (result) => {
          this.appendedEvents += result.appended;
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

  /** Empties the linker's state and replays the whole store. */
  rebuild(): Promise<void> {
    return this.runner.rebuild();
  }

  isRunning(): boolean {
    return this.runner.isRunning();
  }

  committedPosition(): bigint {
    return this.runner.committedPosition();
  }

  /** Resolves when every event up to `position` has been linked (and the linker's own events appended). */
  waitForPosition(position: bigint, timeoutMs?: number): Promise<void> {
    return this.runner.waitForPosition(position, timeoutMs);
  }

  async status(): Promise<LinkerStatus> {
    const { name, checkpoint, head, lag, running, lastError } = await this.runner.status();
    return {
      linker: name,
      checkpoint,
      head,
      lag,
      running,
      appendedEvents: this.appendedEvents,
      ...(lastError ? { lastError } : {}),
    };
  }
}
