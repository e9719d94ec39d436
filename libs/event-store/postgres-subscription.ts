import { Client } from 'pg';
import { isRetriable } from '@throughline/platform';
import type { RecordedEvent, Subscription, SubscriptionHandler } from './port';

export interface PostgresSubscriptionOptions {
  readonly handler: SubscriptionHandler;
  readonly after: bigint;
  readonly batchSize: number;
  readonly readAfter: (after: bigint, maxCount: number) => Promise<RecordedEvent[]>;
  readonly connectionString: string;
  /** Already validated as a plain identifier. */
  readonly notifyChannel: string;
  readonly idlePollMs: number;
  readonly onEnded: () => void;
}

/** Consecutive retriable read failures tolerated (with backoff) before the subscription fails. */
const MAX_READ_RETRIES = 8;
const MAX_BACKOFF_MS = 5000;

const backoffMs = (attempt: number) => Math.min(MAX_BACKOFF_MS, 50 * 2 ** attempt);

/**
 * Catch-up then live, one loop: read a batch after the last delivered position, await the
 * handler, repeat; once caught up, wait for a NOTIFY (sent by appends at commit) or the idle
 * poll. Correctness rests on the reads alone — the store's commit order guarantees that
 * nothing ever appears below a position already read — NOTIFY only makes it prompt.
 */
export class PostgresSubscription implements Subscription {
  readonly finished: Promise<void>;
  private last: bigint;
  private stopping = false;
  /** Set by a wake-up; cleared just before each read, so a NOTIFY during a read is never lost. */
  private woken = false;
  private wakeWaiter: (() => void) | undefined;
  private listener: Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempts = 0;

  constructor(private readonly options: PostgresSubscriptionOptions) {
    this.last = options.after;
    this.finished = this.run();
  }

  lastPosition(): bigint {
    return this.last;
  }

  /** Resolves once the batch in hand is done and the listener is closed; failures surface via `finished`. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.finished.catch(() => undefined);
  }

  private async run(): Promise<void> {
    try {
      await this.listen();
      let failedReads = 0;
      while (!this.stopping) {
        this.woken = false;
        let batch: RecordedEvent[];
        try {
          batch = await this.options.readAfter(this.last, this.options.batchSize);
          failedReads = 0;
        } catch (error) {
          if (!isRetriable(error) || failedReads >= MAX_READ_RETRIES) throw error;
          await this.waitForWake(backoffMs(failedReads++));
          continue;
        }
        if (this.stopping) break;
        if (batch.length > 0) {
          await this.options.handler(batch);
          this.last = batch[batch.length - 1].position;
        } else if (!this.woken) {
          await this.waitForWake(this.options.idlePollMs);
        }
      }
    } finally {
      this.stopping = true;
      await this.unlisten();
      this.options.onEnded();
    }
  }

  private wake(): void {
    this.woken = true;
    this.wakeWaiter?.();
  }

  private waitForWake(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeWaiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.wakeWaiter = done;
    });
  }

  /** Opens the LISTEN connection; never throws — a failure schedules a reconnect. */
  private async listen(): Promise<void> {
    if (this.stopping) return;
    const client = new Client({ connectionString: this.options.connectionString });
    this.listener = client;
    client.on('error', () => this.listenerLost(client));
    client.on('end', () => this.listenerLost(client));
    client.on('notification', (message) => {
      if (message.channel === this.options.notifyChannel) this.wake();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.options.notifyChannel}`);
      this.reconnectAttempts = 0;
      // Whatever committed while nobody listened is picked up by the read this triggers.
      this.wake();
    } catch {
      this.listenerLost(client);
    }
  }

  private listenerLost(client: Client): void {
    if (this.listener !== client) return; // already handled, or closed by unlisten()
    this.listener = undefined;
    client.end().catch(() => undefined);
    if (this.stopping) return;
    this.reconnectTimer = setTimeout(() => void this.listen(), backoffMs(this.reconnectAttempts++));
  }

  private async unlisten(): Promise<void> {
    clearTimeout(this.reconnectTimer);
    const client = this.listener;
    this.listener = undefined;
    if (client) await client.end().catch(() => undefined);
  }
}
