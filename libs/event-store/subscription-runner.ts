import { setImmediate } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { ClientBase, Pool, PoolClient } from 'pg';
import {
  ConcurrencyError,
  PreparedStatement,
  UnavailableError,
  WorkerFunction,
  backoffDelay,
  classifyFailure,
  sleep,
  withBatchSpan,
  withTransaction,
  type TransactionSettings,
} from '@throughline/platform';
import type { EventStore, RecordedEvent, Subscription } from './port';

/** Told what a runner does, for metrics. Must not throw. */
export interface SubscriptionObserver {
  /** After a batch's transaction committed. */
  batchCommitted(info: {
    readonly name: string;
    readonly events: number;
    readonly durationMs: number;
    readonly position: bigint;
    readonly lastRecordedAt: Date | undefined;
  }): void;
  /** A batch or the subscription failed; `willRetry` false when the runner stops for good. */
  failed(info: { readonly name: string; readonly error: unknown; readonly willRetry: boolean }): void;
}

type Queryable = Pick<Pool, 'query'>;

export interface CheckpointRow {
  readonly position: bigint;
  /** The row's counters by column, e.g. `skipped_events`. */
  readonly counters: Readonly<Record<string, number>>;
}

/**
 * Where a read model keeps its checkpoint, one row per runner name. `claim` and `count` run
 * inside the batch transaction, so the checkpoint moves with the effects it covers.
 */
export interface CheckpointStore<R> {
  /** The committed position, creating the row at 0 when there is none. */
  open(db: Queryable, name: string): Promise<bigint>;
  /**
   * Moves the row from `expected` to `position` in one statement, which also locks it until the
   * transaction ends; ConcurrencyError unless it was at `expected` (another runner of that name
   * moved it). A rollback puts it back with everything else the batch did.
   */
  claim(client: ClientBase, name: string, expected: bigint, position: bigint): Promise<void>;
  /** Adds the batch's counters from its report to the row (no statement when they are all 0). */
  count(client: ClientBase, name: string, report: R): Promise<void>;
  /** Back to 0, counters too (a rebuild). */
  reset(client: ClientBase, name: string): Promise<void>;
  read(db: Queryable, name: string): Promise<CheckpointRow>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * A checkpoint table `(name text PRIMARY KEY, position bigint, <counter> bigint…, updated_at
 * timestamptz)`, as the read models' migrations create them. `counters` names columns that add
 * up a number from each batch's report (e.g. events skipped).
 */
export function checkpointTable<R>(
  table: string,
  counters: Readonly<Record<string, (report: R) => number>> = {},
): CheckpointStore<R> {
  const columns = Object.keys(counters);
  for (const identifier of [table, ...columns]) {
    if (!IDENTIFIER.test(identifier))
      throw new Error(`checkpoint table: "${identifier}" is not a plain identifier`);
  }
  const added = columns.map((column, i) => `${column} = ${column} + $${i + 2}`).join(', ');
  const zeroed = columns.map((column) => `, ${column} = 0`).join('');
  // Once a batch, every batch: prepared (planned once per connection, not every time).
  const claimStatement = new PreparedStatement(
    'claim',
    `UPDATE ${table} SET position = $3, updated_at = now() WHERE name = $1 AND position = $2`,
  );
  const countStatement = new PreparedStatement('count', `UPDATE ${table} SET ${added} WHERE name = $1`);
  const readSql = `SELECT position${columns.map((column) => `, ${column}`).join('')} FROM ${table} WHERE name = $1`;
  return {
    async open(db, name) {
      const result = await db.query<{ position: string }>(
        `INSERT INTO ${table} (name) VALUES ($1)
         ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING position`,
        [name],
      );
      return BigInt(result.rows[0].position);
    },
    async claim(client, name, expected, position) {
      const moved = await claimStatement.run(client, [name, expected.toString(), position.toString()]);
      if (moved.rowCount === 1) return;
      const row = await client.query<{ position: string }>(`SELECT position FROM ${table} WHERE name = $1`, [
        name,
      ]);
      throw new ConcurrencyError(`${table}:${name}`, expected.toString(), row.rows[0]?.position ?? 'missing');
    },
    async count(client, name, report) {
      const values = columns.map((column) => counters[column](report));
      if (values.every((value) => value === 0)) return;
      await countStatement.run(client, [name, ...values]);
    },
    async reset(client, name) {
      await client.query(
        `INSERT INTO ${table} (name) VALUES ($1)
         ON CONFLICT (name) DO UPDATE SET position = 0${zeroed}, updated_at = now()`,
        [name],
      );
    },
    async read(db, name) {
      const result = await db.query<Record<string, string>>(readSql, [name]);
      const row = result.rows[0];
      return {
        position: BigInt(row?.position ?? 0),
        counters: Object.fromEntries(columns.map((column) => [column, Number(row?.[column] ?? 0)])),
      };
    },
  };
}

/**
 * Events a handler's `prepare` works through between two turns of the event loop (about a
 * millisecond of work): the statements of the batch being applied meanwhile are sent as their
 * answers arrive.
 */
const PREPARE_SLICE = 50;

/** Calls `visit` with each event in order, giving the event loop a turn every PREPARE_SLICE: the loop of a `prepare`. */
export async function forEachInSlices<T>(items: readonly T[], visit: (item: T) => void): Promise<void> {
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % PREPARE_SLICE === 0) await setImmediate();
    visit(items[i]);
  }
}

/** What a read model does; everything else (checkpoint, transaction, retries, waiters) is the runner's. */
export interface CheckpointedHandler<R, P = undefined> {
  /**
   * The part of a batch's work that needs its events alone (reading them as contracts, building
   * the rows to write), before its transaction. While the runner catches up it is done as soon as
   * the batch is read, while the batch before is still applied (`SubscribeOptions.readAhead`):
   * it must not touch the read model nor depend on what earlier batches wrote to it, and should
   * give the event loop a turn now and then (`forEachInSlices`), so the batch being applied goes on.
   */
  prepare?(batch: readonly RecordedEvent[]): Promise<P>;
  /**
   * Where large batches are prepared instead: a module whose export does what `prepare` does,
   * synchronously, and returns plain data (it is handed back by a structured clone), run in a
   * worker thread the runner starts with `start()` and ends with `stop()` (not with a rebuild).
   * Batches of `minEvents` or more (catching up, rebuilding) go to it; smaller ones (live traffic,
   * where the thread's round trip would only add latency) to `prepare`, which must be given too.
   */
  readonly prepareThread?: PrepareThread;
  /**
   * Applies one batch inside the runner's transaction; what it returns is the batch's report.
   * `prepared` is what `prepare` made of this batch (undefined without `prepare`).
   */
  handleBatch(client: PoolClient, batch: readonly RecordedEvent[], prepared: P): Promise<R>;
  /** Once the batch's transaction committed (e.g. to log what it skipped). */
  committed?(report: R): void;
  /** Empties the read model, inside the rebuild's transaction. */
  reset?(client: PoolClient): Promise<void>;
  /**
   * The tables the handler writes. The runner refreshes their planner statistics as the model
   * grows (see `StatisticsPolicy`): a rebuild takes them from empty to millions of rows, and with
   * statistics from when they were empty (autovacuum off, or behind) a batch's joins turn into
   * scans of the whole table.
   */
  readonly tables?: readonly string[];
}

export interface PrepareThread {
  /** Absolute path of the module, compiled (dist/) or source (jest): see `WorkerFunctionOptions.module`. */
  readonly module: string;
  readonly exportName: string;
  readonly minEvents: number;
}

/**
 * When the runner refreshes its tables' statistics: once the checkpoint has moved `minEvents` and
 * the model has grown by `growth` since the last refresh (positions stand in for its size), so a
 * rebuild of 7 M events refreshes eight times (50,000, 100,000, … 6.4 M), and a live model rarely.
 */
export interface StatisticsPolicy {
  readonly minEvents: number;
  /** The checkpoint at the next refresh is at least this multiple of the last one. */
  readonly growth: number;
}

export const DEFAULT_STATISTICS_POLICY: StatisticsPolicy = { minEvents: 50_000, growth: 2 };

export interface SubscriptionLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface CheckpointedSubscriptionOptions<R, P = undefined> {
  /** Names the checkpoint row (and the runner in metrics). */
  readonly name: string;
  /** Names the runner in messages, e.g. `projection timeline`. Default `subscription <name>`. */
  readonly description?: string;
  /** The read model's database (the checkpoint table's too). */
  readonly pool: Pool;
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore<R>;
  readonly handler: CheckpointedHandler<R, P>;
  /** Events per transaction. Default DEFAULT_SUBSCRIPTION_BATCH_SIZE (1,000). */
  readonly batchSize?: number;
  /** Milliseconds before the first resubscribe after a failure; doubles (with jitter) up to maxBackoffMs. Default 200. */
  readonly retryBackoffMs?: number;
  /** Longest pause in milliseconds between two attempts. Default 30000. */
  readonly maxBackoffMs?: number;
  readonly observer?: SubscriptionObserver;
  readonly logger?: SubscriptionLogger;
  /** When the handler's `tables` have their statistics refreshed. Default DEFAULT_STATISTICS_POLICY. */
  readonly statistics?: StatisticsPolicy;
}

export interface SubscriptionStatus {
  readonly name: string;
  readonly checkpoint: number;
  readonly head: number;
  readonly lag: number;
  readonly running: boolean;
  /** The checkpoint row's counters. */
  readonly counters: Readonly<Record<string, number>>;
  readonly lastError?: string;
}

interface PositionWaiter {
  readonly position: bigint;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * Most events a batch transaction takes: what a catching-up or rebuilding runner reads, prepares
 * and applies at once (a runner at the head takes what is new, usually a few events). A batch
 * has costs of its own whatever its size (its transaction and checkpoint, the reads of the state
 * it touches, one statement per table and kind of change, the prepare thread's round trip).
 * 1,000 rather than 500 since 6 December: each model alone rebuilt a 20,586-event store 1.3 to
 * 1.6 times as fast with it, and 2,000 was no faster for the timeline, whose prepare thread then
 * became the slower half of the pipeline (bench/README.md, "Batches of 1,000").
 */
export const DEFAULT_SUBSCRIPTION_BATCH_SIZE = 1000;
/**
 * Each batch's transaction runs with these (sent with its BEGIN, no round trip of their own). A
 * batch's statements touch a few hundred rows each; JIT compilation, which the planner's guesses
 * for unnest and joins on tables without statistics can trigger, costs more than any of them
 * (270 ms was seen on one read model's statement at 100,000 children). Index probes are costed
 * as solid-state disks and a model held in memory have them: at the default 4, the linker read
 * all 3,400 holders of a large blocking key by bitmap and sorted them for the first 200 (360 ms
 * for two keys, where the index gives them in 17 ms; decision 021, third 100,000-child run).
 */
const BATCH_SETTINGS: TransactionSettings = { jit: 'off', random_page_cost: '1.1' };
/**
 * How a batch's statements are planned. The hot ones are prepared (`PreparedStatement`), so a
 * connection can keep one generic plan of each; left to choose, PostgreSQL never does for the
 * `= ANY($1)` lookups a batch is made of (a generic plan, costed for an array of ten, looks dearer
 * than a custom one for an array of one) and plans every statement of every live batch again. A
 * batch of a few events (the live path) takes the generic plan: index lookups by key, whatever the
 * keys. One of at least CUSTOM_PLAN_MIN_EVENTS (a rebuild's, a catch-up's) has each statement
 * planned for its own arrays, which costs next to nothing spread over hundreds of events.
 */
export const CUSTOM_PLAN_MIN_EVENTS = 64;
const LIVE_BATCH_SETTINGS: TransactionSettings = { ...BATCH_SETTINGS, plan_cache_mode: 'force_generic_plan' };
const LARGE_BATCH_SETTINGS: TransactionSettings = { ...BATCH_SETTINGS, plan_cache_mode: 'force_custom_plan' };

const DEFAULT_RETRY_BACKOFF_MS = 200;
const DEFAULT_MAX_BACKOFF_MS = 30_000;

/**
 * A read model kept up to date from the store: a catch-up subscription from its checkpoint,
 * each batch handled in one transaction with the checkpoint claimed and moved inside it. A
 * failed batch leaves nothing behind; the runner resubscribes from the committed checkpoint
 * with backoff, unless the failure's row says `stop` (then it stops loudly, for good).
 */
export class CheckpointedSubscriptionRunner<R, P = undefined> {
  private readonly logger: SubscriptionLogger;
  private checkpoint = 0n;
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake = new AbortController();
  private running = false;
  private attempt = 0;
  private lastError: string | undefined;
  private waiters: PositionWaiter[] = [];
  /** The checkpoint when the tables' statistics were last refreshed (or found, at the first open). */
  private analysedAt: bigint | undefined;
  private statisticsWarned = false;
  /** The batch read ahead and its `prepare`, under way while the batch before is applied. */
  private ahead: { readonly batch: readonly RecordedEvent[]; readonly prepared: Promise<P> } | undefined;

  /** The handler's `prepareThread`, if it has one. */
  private readonly thread: WorkerFunction<readonly RecordedEvent[], P> | undefined;

  constructor(private readonly options: CheckpointedSubscriptionOptions<R, P>) {
    this.logger = options.logger ?? new Logger(this.description);
    const thread = options.handler.prepareThread;
    if (thread && !options.handler.prepare)
      throw new Error(`${this.description}: a prepareThread needs a prepare`);
    this.thread = thread && new WorkerFunction({ ...thread, name: `${this.description} prepare` });
  }

  get name(): string {
    return this.options.name;
  }

  private get description(): string {
    return this.options.description ?? `subscription ${this.options.name}`;
  }

  /** Resolves once the first subscription is open (or its first attempt failed and a retry is scheduled). */
  async start(): Promise<void> {
    if (this.loop) return;
    this.thread?.start(); // its module loads beside the first reads
    this.stopping = false;
    this.wake = new AbortController();
    let opened!: () => void;
    const firstAttempt = new Promise<void>((resolve) => (opened = resolve));
    this.loop = this.run(opened);
    await firstAttempt;
  }

  /** Stops after the batch in hand, and ends the prepare thread (a later start() begins another). */
  async stop(): Promise<void> {
    await this.halt();
    await this.thread?.close();
  }

  /** Stops after the batch in hand. */
  private async halt(): Promise<void> {
    this.stopping = true;
    this.wake.abort();
    await this.subscription?.stop();
    await this.loop;
    this.loop = undefined;
  }

  /** Empties the read model and replays the whole store. */
  async rebuild(): Promise<void> {
    await this.halt();
    const { pool, handler, checkpoints } = this.options;
    await withTransaction(pool, async (client) => {
      await handler.reset?.(client);
      await checkpoints.reset(client, this.name);
    });
    this.checkpoint = 0n;
    this.analysedAt = 0n;
    await this.start();
  }

  isRunning(): boolean {
    return this.running;
  }

  /** Last position whose effects are committed in the read model. */
  committedPosition(): bigint {
    return this.checkpoint;
  }

  /** Resolves when everything up to `position` is in the read model. */
  waitForPosition(position: bigint, timeoutMs = 30_000): Promise<void> {
    if (this.checkpoint >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== entry);
        reject(
          new UnavailableError(
            `${this.description} did not reach position ${position} within ${timeoutMs} ms (at ${this.checkpoint}${this.lastError ? `; last error: ${this.lastError}` : ''})`,
          ),
        );
      }, timeoutMs);
      const entry: PositionWaiter = {
        position,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(entry);
    });
  }

  async status(): Promise<SubscriptionStatus> {
    const [row, head] = await Promise.all([
      this.options.checkpoints.read(this.options.pool, this.name),
      this.options.store.headPosition(),
    ]);
    return {
      name: this.name,
      checkpoint: Number(row.position),
      head: Number(head),
      lag: Number(head > row.position ? head - row.position : 0n),
      running: this.running,
      counters: row.counters,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private async run(opened: () => void): Promise<void> {
    const { pool, store, checkpoints } = this.options;
    while (!this.stopping) {
      try {
        this.checkpoint = await checkpoints.open(pool, this.name);
        this.analysedAt ??= this.checkpoint;
        this.settleWaiters();
        this.ahead = undefined;
        const subscription = store.subscribeToAll((batch) => this.handleBatch(batch), {
          after: this.checkpoint,
          batchSize: this.options.batchSize ?? DEFAULT_SUBSCRIPTION_BATCH_SIZE,
          ...(this.options.handler.prepare && {
            readAhead: (batch: readonly RecordedEvent[]) => {
              const prepared = this.prepare(batch);
              prepared.catch(() => undefined); // taken by handleBatch, or dropped with a failed subscription
              this.ahead = { batch, prepared };
            },
          }),
        });
        this.subscription = subscription;
        if (this.stopping) await subscription.stop(); // stop() came while this was opening
        this.running = !this.stopping;
        opened();
        await subscription.finished;
      } catch (error) {
        if (!this.failed(error)) {
          opened();
          this.loop = undefined; // a later start() may try again
          return;
        }
      } finally {
        this.running = false;
        this.subscription = undefined;
      }
      opened();
      if (this.stopping) break;
      const pause = backoffDelay(this.attempt++, {
        initialMs: this.options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS,
        maxMs: this.options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
      });
      await sleep(pause, this.wake.signal);
    }
  }

  /** Records and reports a failure; false when the retry rule says stop (waiters are told at once). */
  private failed(error: unknown): boolean {
    this.lastError = error instanceof Error ? error.message : String(error);
    if (this.stopping) return true;
    const { action, reason } = classifyFailure(error);
    const willRetry = action !== 'stop';
    this.options.observer?.failed({ name: this.name, error, willRetry });
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (willRetry) {
      this.logger.error(
        `${this.description} stopped at ${this.checkpoint} (${reason}), will resubscribe: ${detail}`,
      );
      return true;
    }
    this.logger.error(
      `${this.description} STOPS at ${this.checkpoint}: ${reason}, which no retry can fix. ` +
        `Fix the cause and restart. ${detail}`,
    );
    const waiters = this.waiters;
    this.waiters = [];
    const stopped = new UnavailableError(`${this.description} stopped: ${this.lastError}`, error);
    for (const waiter of waiters) waiter.reject(stopped);
    return false;
  }

  private async handleBatch(batch: readonly RecordedEvent[]): Promise<void> {
    const { pool, handler, checkpoints, observer } = this.options;
    const started = performance.now();
    const expected = this.checkpoint;
    const last = batch.length > 0 ? batch[batch.length - 1] : undefined;
    const position = last?.position ?? expected;
    const prepared = await this.prepared(batch);
    // One span per batch, linked to the traces that published its events.
    const report = await withBatchSpan(`apply ${this.name}`, batch, () =>
      withTransaction(
        pool,
        async (client) => {
          await checkpoints.claim(client, this.name, expected, position);
          const result = await handler.handleBatch(client, batch, prepared);
          await checkpoints.count(client, this.name, result);
          return result;
        },
        batch.length >= CUSTOM_PLAN_MIN_EVENTS ? LARGE_BATCH_SETTINGS : LIVE_BATCH_SETTINGS,
      ),
    );
    this.checkpoint = position;
    this.lastError = undefined;
    this.attempt = 0;
    this.settleWaiters();
    handler.committed?.(report);
    observer?.batchCommitted({
      name: this.name,
      events: batch.length,
      durationMs: performance.now() - started,
      position,
      lastRecordedAt: last?.recordedAt,
    });
    await this.refreshStatistics();
  }

  /** What `prepare` made of the batch: begun when it was read ahead, or now. */
  private prepared(batch: readonly RecordedEvent[]): Promise<P> {
    const ahead = this.ahead;
    this.ahead = undefined;
    if (ahead?.batch === batch) return ahead.prepared;
    return this.prepare(batch);
  }

  /** The handler's `prepare`, or its thread for a large batch. */
  private prepare(batch: readonly RecordedEvent[]): Promise<P> {
    const { handler } = this.options;
    if (this.thread && batch.length >= (handler.prepareThread?.minEvents ?? Infinity))
      return this.thread.call(batch);
    return handler.prepare ? handler.prepare(batch) : Promise.resolve(undefined as P);
  }

  /**
   * ANALYZE of the handler's tables when the policy says the model has grown enough, outside the
   * batch's transaction. Through `read_model_analyze` (migration read-models/002), which runs as
   * the tables' owner: the apps' role may not ANALYZE them itself. Best effort: a failure is
   * logged once and the runner goes on (the batches are right either way, only slower).
   */
  private async refreshStatistics(): Promise<void> {
    const tables = this.options.handler.tables;
    const since = this.analysedAt ?? 0n;
    if (!tables?.length) return;
    const { minEvents, growth } = this.options.statistics ?? DEFAULT_STATISTICS_POLICY;
    const grown = BigInt(Math.ceil(Number(since) * growth));
    if (this.checkpoint < since + BigInt(minEvents) || this.checkpoint < grown) return;
    this.analysedAt = this.checkpoint;
    const started = performance.now();
    try {
      await this.options.pool.query('SELECT public.read_model_analyze($1::text[]::regclass[])', [tables]);
      this.logger.log(
        `${this.description}: statistics of ${tables.length} tables refreshed at ${this.checkpoint} in ${Math.round(performance.now() - started)} ms`,
      );
    } catch (error) {
      if (this.statisticsWarned) return;
      this.statisticsWarned = true;
      this.logger.warn(
        `${this.description}: could not refresh the statistics of its tables (${error instanceof Error ? error.message : String(error)}); ` +
          'its batches may slow as it grows unless autovacuum analyses them',
      );
    }
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const reached = this.waiters.filter((waiter) => waiter.position <= this.checkpoint);
    if (reached.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => waiter.position > this.checkpoint);
    for (const waiter of reached) waiter.resolve();
  }
}
