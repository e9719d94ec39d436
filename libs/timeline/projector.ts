import { Logger } from '@nestjs/common';
import type { Pool } from 'pg';
import type { EventStore, RecordedEvent, Subscription } from '@throughline/event-store';
import { UnavailableError } from '@throughline/platform';
import { applyBatch } from './apply-batch';
import { resetTimelineReadModels } from './schema';

export interface TimelineProjectorOptions {
  /** The read-model database (the store's database with the PostgreSQL adapter). Migrated already. */
  readonly pool: Pool;
  readonly store: EventStore;
  /** Names the checkpoint row (config.PROJECTION_NAME). */
  readonly name: string;
  /** Events per transaction. Default 500. */
  readonly batchSize?: number;
  /** Per-deployment salt for child keys. Default none: keys are then a plain hash of the founding record. */
  readonly childKeySalt?: string;
  /** Milliseconds before the first retry after a failed batch; doubles up to 30 s. Default 200. */
  readonly retryBackoffMs?: number;
}

export interface ProjectionStatus {
  readonly projection: string;
  readonly checkpoint: number;
  readonly head: number;
  readonly lag: number;
  readonly running: boolean;
  readonly skippedEvents: number;
  readonly lastError?: string;
}

interface PositionWaiter {
  readonly position: bigint;
  readonly resolve: () => void;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Keeps the timeline read models up to date: a catch-up subscription from the checkpoint,
 * each batch applied in one transaction with the new checkpoint. A failed batch leaves
 * nothing behind; the projector resubscribes from the committed checkpoint with backoff.
 */
export class TimelineProjector {
  private readonly logger = new Logger('TimelineProjector');
  private checkpoint = 0n;
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private running = false;
  private lastError: string | undefined;
  private waiters: PositionWaiter[] = [];
  private wakeBackoff: (() => void) | undefined;

  constructor(private readonly options: TimelineProjectorOptions) {}

  get name(): string {
    return this.options.name;
  }

  /** Resolves once the first subscription is open (or its first attempt failed and a retry is scheduled). */
  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = false;
    let opened!: () => void;
    const firstAttempt = new Promise<void>((resolve) => (opened = resolve));
    this.loop = this.run(opened);
    await firstAttempt;
  }

  /** Stops after the batch in hand. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeBackoff?.();
    await this.subscription?.stop();
    await this.loop;
    this.loop = undefined;
  }

  isRunning(): boolean {
    return this.running;
  }

  /** Last position whose effects are committed in the read models. */
  committedPosition(): bigint {
    return this.checkpoint;
  }

  /** Resolves when everything up to `position` is in the read models. */
  waitForPosition(position: bigint, timeoutMs = 30_000): Promise<void> {
    if (this.checkpoint >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== entry);
        reject(
          new UnavailableError(
            `projection ${this.name} did not reach position ${position} within ${timeoutMs} ms (at ${this.checkpoint}${this.lastError ? `; last error: ${this.lastError}` : ''})`,
          ),
        );
      }, timeoutMs);
      const entry: PositionWaiter = {
        position,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(entry);
    });
  }

  /** Empties the read models and replays the whole store. */
  async rebuild(): Promise<void> {
    await this.stop();
    await resetTimelineReadModels(this.options.pool, this.name);
    this.checkpoint = 0n;
    await this.start();
  }

  async status(): Promise<ProjectionStatus> {
    const [row, head] = await Promise.all([
      this.options.pool.query<{ position: string; skipped_events: string }>(
        'SELECT position, skipped_events FROM projection_checkpoints WHERE name = $1',
        [this.name],
      ),
      this.options.store.headPosition(),
    ]);
    const checkpoint = BigInt(row.rows[0]?.position ?? 0);
    const lag = head > checkpoint ? head - checkpoint : 0n;
    return {
      projection: this.name,
      checkpoint: Number(checkpoint),
      head: Number(head),
      lag: Number(lag),
      running: this.running,
      skippedEvents: Number(row.rows[0]?.skipped_events ?? 0),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private async run(opened: () => void): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      try {
        this.checkpoint = await this.readCheckpoint();
        this.settleWaiters();
        const subscription = this.options.store.subscribeToAll((batch) => this.project(batch), {
          after: this.checkpoint,
          batchSize: this.options.batchSize ?? 500,
        });
        this.subscription = subscription;
        if (this.stopping) await subscription.stop(); // stop() came while this was opening
        this.running = !this.stopping;
        opened();
        await subscription.finished;
        attempt = 0;
      } catch (error) {
        this.lastError = error instanceof Error ? error.message : String(error);
        this.logger.error(
          `projection ${this.name} stopped at ${this.checkpoint}, will resubscribe: ${this.lastError}`,
        );
      } finally {
        this.running = false;
        this.subscription = undefined;
      }
      opened();
      if (this.stopping) break;
      await this.backoff(Math.min(MAX_BACKOFF_MS, (this.options.retryBackoffMs ?? 200) * 2 ** attempt++));
    }
  }

  private backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeBackoff = done;
    });
  }

  private async readCheckpoint(): Promise<bigint> {
    const result = await this.options.pool.query<{ position: string }>(
      `INSERT INTO projection_checkpoints (name) VALUES ($1)
       ON CONFLICT (name) DO UPDATE SET name = excluded.name
       RETURNING position`,
      [this.name],
    );
    return BigInt(result.rows[0].position);
  }

  private async project(batch: readonly RecordedEvent[]): Promise<void> {
    const client = await this.options.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await applyBatch(
        client,
        this.name,
        this.checkpoint,
        batch,
        this.options.childKeySalt ?? '',
      );
      await client.query('COMMIT');
      for (const skipped of result.skipped) {
        this.logger.warn(
          `skipped event ${skipped.eventId} at ${skipped.position} (${skipped.type}): not a valid contract — ${skipped.issues
            .map((issue) => `${issue.path} ${issue.rule}`)
            .join(', ')}`,
        );
      }
      this.checkpoint = result.lastPosition;
      this.lastError = undefined;
      this.settleWaiters();
    } catch (error) {
      // A connection that cannot even roll back is discarded rather than returned to the pool.
      const broken = await client.query('ROLLBACK').then(
        () => undefined,
        (rollbackError: Error) => rollbackError,
      );
      client.release(broken);
      throw error;
    }
    client.release();
  }

  private settleWaiters(): void {
    const reached = this.waiters.filter((waiter) => waiter.position <= this.checkpoint);
    if (reached.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => waiter.position > this.checkpoint);
    for (const waiter of reached) waiter.resolve();
  }
}
