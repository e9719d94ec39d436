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
import { linkBatch, stepsOf, type LinkBatchResult } from './link-batch';
import type { BatchStep } from './linker-events';
import { KEY_SCHEME, keysOf, SnapshotCache, type CandidateLimits } from './linker-state';
import type { SubjectSnapshot } from './subject';
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

/** Records read and re-keyed per statement by `rekeyIdentitySubjects`. */
const REKEY_PAGE = 2_000;

/**
 * Brings the stored keys up to the code's `KEY_SCHEME`: every record the linker knows gets the
 * keys `keysOf` gives its snapshot now, so a new record meets the records already known under
 * keys added since they were last changed (decision 027). Only adds: each scheme's keys are a
 * superset of the one before, and a stale key only makes a record a candidate, which scoring
 * decides on (it goes when the record next changes). So it is safe beside a running linker and
 * when two start at once. Nothing to do, one query, when the scheme is current. Measured at about
 * 40 µs a record (14,773 records in 0.55–0.71 s): minutes for millions, so the linker runs it
 * beside its subscription, not before. Returns the keys added.
 */
export async function rekeyIdentitySubjects(pool: Pool, signal?: AbortSignal): Promise<number> {
  const scheme = await pool.query<{ version: number }>('SELECT version FROM identity_key_scheme');
  if ((scheme.rows[0]?.version ?? 0) >= KEY_SCHEME) return 0;
  let added = 0;
  let after = '';
  for (;;) {
    // Stopped: what is added stays, the version does not move, and the next start goes through again.
    if (signal?.aborted) return added;
    const page = await pool.query<{ stream_id: string; snapshot: SubjectSnapshot }>(
      'SELECT stream_id, snapshot FROM identity_subjects WHERE stream_id > $1 ORDER BY stream_id LIMIT $2',
      [after, REKEY_PAGE],
    );
    if (page.rows.length === 0) break;
    const keys: string[] = [];
    const records: string[] = [];
    for (const row of page.rows)
      for (const key of keysOf(row.snapshot)) {
        keys.push(key);
        records.push(row.stream_id);
      }
    const inserted = await pool.query(
      `INSERT INTO identity_subject_keys (key, stream_id) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT DO NOTHING`,
      [keys, records],
    );
    added += inserted.rowCount ?? 0;
    after = page.rows[page.rows.length - 1].stream_id;
  }
  await pool.query('UPDATE identity_key_scheme SET version = $1 WHERE version < $1', [KEY_SCHEME]);
  return added;
}

/** A key held by more records than the linker's block bound: it finds no candidates (decision 026). */
export interface BroadKey {
  /** What the key is on, e.g. `id:nhs`, `block:dob`, `block:name`. */
  readonly kind: string;
  /** The key as stored, an identifier's value masked but for its last three characters. */
  readonly key: string;
  readonly holders: number;
}

/**
 * A key for a report: an identifier's value (`id:<namespace>:<value>`) masked but for its last
 * three characters, so a report or a terminal never shows a child's identifier whole. A value
 * held by hundreds of records is a placeholder or an error, but the report cannot know that.
 * Blocking keys are dates and name codes shared by hundreds: shown as they are.
 */
export function keyForReport(key: string): { kind: string; key: string } {
  const [family, namespace, ...rest] = key.split(':');
  const kind = `${family}:${namespace}`;
  if (family !== 'id') return { kind, key };
  const value = rest.join(':');
  return { kind, key: `${kind}:${'*'.repeat(Math.max(0, value.length - 3))}${value.slice(-3)}` };
}

/**
 * The keys too broad to find candidates by: held by more than `block` records (the linker's
 * `CandidateLimits.block`, `IDENTITY_MAX_BLOCK`), most held first, at most `limit` of them, and
 * how many there are in all. A placeholder NHS number on hundreds of records, or a default date
 * of birth, shows here as a data-quality finding instead of only as matches not made. One scan of
 * `identity_subject_keys` in key order (its primary key): seconds at a few million keys, a
 * report to run now and then, not on every batch.
 */
export async function broadKeys(
  db: Pick<Pool, 'query'>,
  block: number,
  limit = 50,
): Promise<{ total: number; keys: BroadKey[] }> {
  const result = await db.query<{ key: string; holders: number; total: number }>(
    `SELECT key, holders, count(*) OVER ()::int AS total FROM (
       SELECT key, count(*)::int AS holders FROM identity_subject_keys GROUP BY key HAVING count(*) > $1
     ) AS broad ORDER BY holders DESC, key LIMIT $2`,
    [block, limit],
  );
  return {
    total: result.rows[0]?.total ?? 0,
    keys: result.rows.map((row) => ({ ...keyForReport(row.key), holders: row.holders })),
  };
}

export interface IdentityLinkerOptions {
  /** The database holding the linker's state (migrated already with migrateIdentity). */
  readonly pool: Pool;
  readonly store: EventStore;
  /** Names the checkpoint row. Default `identity-linker`: one linker per database. */
  readonly name?: string;
  /**
   * Events per transaction. Default the runner's (DEFAULT_SUBSCRIPTION_BATCH_SIZE, 1,000), as the
   * projectors': the projection app's three models then read the same pages of the store (decision 025).
   */
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
  readonly runner: CheckpointedSubscriptionRunner<LinkBatchResult, BatchStep[]>;
  private appendedEvents = 0;

  private readonly pool: Pool;
  private readonly logger = new Logger('IdentityLinker');
  private rekeying: Promise<void> | undefined;
  private stopRekeying: AbortController | undefined;

  constructor(options: IdentityLinkerOptions) {
    const logger = this.logger;
    this.pool = options.pool;
    const model = options.model ?? DEFAULT_MATCH_MODEL;
    const snapshots = new SnapshotCache();
    this.runner = new CheckpointedSubscriptionRunner({
      name: options.name ?? DEFAULT_LINKER_NAME,
      description: 'identity linker',
      pool: options.pool,
      store: options.store,
      checkpoints: LINKER_CHECKPOINTS,
      batchSize: options.batchSize,
      retryBackoffMs: options.retryBackoffMs,
      observer: options.observer,
      logger,
      handler: {
        prepare: (batch) => stepsOf(batch, logger),
        handleBatch: (client, batch, steps) =>
          linkBatch(client, options.store, batch, model, logger, options.candidateLimits, steps, snapshots),
        reset: async (client) => {
          snapshots.clear();
          await truncateLinkerState(client);
        },
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

  /**
   * Subscribes, and re-keys the known records beside it if the key scheme moved on
   * (`rekeyIdentitySubjects`; `rekeyed()` resolves when that is done). Until then a record is
   * compared through the keys its neighbours were given when they last changed, as before.
   */
  async start(): Promise<void> {
    if (!this.rekeying) {
      const stopping = new AbortController();
      this.stopRekeying = stopping;
      this.rekeying = rekeyIdentitySubjects(this.pool, stopping.signal).then(
        (added) => {
          if (added > 0)
            this.logger.log(
              `identity linker: ${added} keys added to the known records${stopping.signal.aborted ? ' before it stopped' : ''} (key scheme ${KEY_SCHEME})`,
            );
        },
        (error: unknown) =>
          this.logger.warn(
            `identity linker: re-keying the known records failed, the next start tries again: ${error instanceof Error ? error.message : String(error)}`,
          ),
      );
    }
    return this.runner.start();
  }

  /** Resolves when the start's re-keying of the known records has finished (or failed, logged). */
  async rekeyed(): Promise<void> {
    await this.rekeying;
  }

  async stop(): Promise<void> {
    await Promise.all([this.runner.stop(), this.endRekeying()]);
  }

  /**
   * Empties the linker's state and replays the whole store. The start's re-keying ends first:
   * a page it read before the TRUNCATE would otherwise put back keys of records the replay has
   * not seen yet. The replay writes every key under the current scheme anyway.
   */
  async rebuild(): Promise<void> {
    await this.endRekeying();
    return this.runner.rebuild();
  }

  private async endRekeying(): Promise<void> {
    this.stopRekeying?.abort();
    await this.rekeying;
    this.rekeying = undefined;
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
