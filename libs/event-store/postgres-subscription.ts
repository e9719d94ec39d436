import { Client, type Pool } from 'pg';
import { ValidationError, backoffDelay, isRetriable, type BackoffOptions } from '@throughline/platform';
import type { RecordedEvent, SubscribeOptions, Subscription, SubscriptionHandler } from './port';

export type SubscriptionFilter = NonNullable<SubscribeOptions['filter']>;

/** One read of a subscription: the events to deliver and the position the store was scanned to. */
export interface SubscriptionBatch extends ReadPage {
  /**
   * Every committed event at or below this position that matches has been returned (or was
   * returned before): the next read starts after it. For a filtered read that found fewer than
   * `maxCount` matches this is the committed head, so non-matching events are never re-read.
   */
  readonly scannedTo: bigint;
}

/**
 * A page of events, and whether it reached the head: true only when it is shorter than asked for
 * and came from a statement issued after the call began (a direct read of the store, the filtered
 * read, the shared window's own read). It then saw every event committed before the call, so
 * anything later will be announced by a NOTIFY. False for a full page, and for a page the shared
 * window handed over from another subscription's read (issued before the call, perhaps before a
 * commit this subscription was told of).
 */
export interface ReadPage {
  readonly events: RecordedEvent[];
  readonly atHead: boolean;
}

export interface PostgresSubscriptionOptions {
  readonly handler: SubscriptionHandler;
  readonly after: bigint;
  readonly batchSize: number;
  /** Events after `after`, and whether they reached the head (`ReadPage`). */
  readonly readAfter: (after: bigint, maxCount: number) => Promise<ReadPage>;
  /** Server-side filter; needs `db`, which it reads with `readFilteredBatch` instead of `readAfter`. */
  readonly filter?: SubscriptionFilter;
  readonly db?: Pick<Pool, 'query'>;
  readonly connectionString: string;
  /** Already validated as a plain identifier. */
  readonly notifyChannel: string;
  readonly idlePollMs: number;
  readonly onEnded: () => void;
  /** See `SubscribeOptions.readAhead`. */
  readonly readAhead?: (events: readonly RecordedEvent[]) => void;
}

/**
 * Wake-ups not yet answered by a read: the highest position a NOTIFY announced (appends send
 * their last position at commit), and whether any wake-up announced none (the listener's
 * connect, the idle poll), after which only a read that reaches the head will do.
 */
interface Owed {
  announced: bigint;
  blind: boolean;
}

const nothingOwed = (): Owed => ({ announced: -1n, blind: false });

/** The position an append's NOTIFY carries; undefined for any other payload. */
function announcedPosition(payload: string | undefined): bigint | undefined {
  return payload !== undefined && /^[0-9]{1,19}$/.test(payload) ? BigInt(payload) : undefined;
}

/** Consecutive retriable read failures tolerated (with backoff) before the subscription fails. */
const MAX_READ_RETRIES = 8;
/** Pauses between failed reads and between listener reconnects. */
const BACKOFF: BackoffOptions = { initialMs: 50, maxMs: 5000 };

const filterError = (path: string, rule: string, message: string) =>
  new ValidationError('invalid subscription filter', [{ path, rule, message }]);

/** A filter names a category (no dash) and/or a non-empty list of non-empty event types, nothing else. */
export function validateSubscriptionFilter(filter: SubscriptionFilter): void {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw filterError('filter', 'object', 'must be an object');
  }
  for (const key of Object.keys(filter)) {
    if (key !== 'category' && key !== 'eventTypes') {
      throw filterError(`filter.${key}`, 'unknown', 'is not a filter key (category, eventTypes)');
    }
  }
  const { category, eventTypes } = filter;
  if (category === undefined && eventTypes === undefined) {
    throw filterError('filter', 'required', 'must name a category or eventTypes');
  }
  if (
    category !== undefined &&
    (typeof category !== 'string' || category.length === 0 || category.includes('-'))
  ) {
    throw filterError('filter.category', 'category', 'must be a non-empty string without a dash');
  }
  if (eventTypes !== undefined) {
    if (!Array.isArray(eventTypes) || eventTypes.length === 0) {
      throw filterError('filter.eventTypes', 'non_empty', 'must be a non-empty array of event types');
    }
    eventTypes.forEach((type: unknown, index) => {
      if (typeof type !== 'string' || type.length === 0) {
        throw filterError(`filter.eventTypes.${index}`, 'required', 'must be a non-empty string');
      }
    });
  }
}

interface FilteredRow {
  head: string | null;
  position: string | null;
  stream_id: string;
  revision: string;
  event_id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  recorded_at: Date;
}

/**
 * The read of a filtered subscription, one statement: matching events after `after` (at most
 * `maxCount`, in position order) and, in the same snapshot, the committed head (the largest
 * position visible; a rolled-back append leaves none). Appends commit in position order
 * (the append lock), so nothing can later commit at or below a committed head: when fewer
 * than `maxCount` rows match, the whole range up to the head has been scanned and the next
 * read can start there. The category test is the one `readCategory` uses, so it can use the
 * index `events_category_position`; the type test can use `events_type_position`.
 */
export function filteredBatchQuery(
  after: bigint,
  maxCount: number,
  filter: SubscriptionFilter,
): { text: string; values: unknown[] } {
  const conditions = ['position > $1'];
  const values: unknown[] = [after.toString(), maxCount];
  if (filter.category !== undefined) {
    values.push(filter.category);
    conditions.push(`split_part(stream_id, '-', 1) = $${values.length} AND strpos(stream_id, '-') > 0`);
  }
  if (filter.eventTypes !== undefined) {
    values.push([...filter.eventTypes]);
    conditions.push(`type = ANY($${values.length}::text[])`);
  }
  const text = `WITH matched AS (
       SELECT position, stream_id, revision, event_id, type, data, metadata, recorded_at
       FROM events WHERE ${conditions.join(' AND ')} ORDER BY position LIMIT $2
     )
     SELECT head.head, matched.*
     FROM (SELECT max(position) AS head FROM events) AS head LEFT JOIN matched ON true
     ORDER BY matched.position`;
  return { text, values };
}

/** Runs `filteredBatchQuery`: see there. */
export async function readFilteredBatch(
  db: Pick<Pool, 'query'>,
  after: bigint,
  maxCount: number,
  filter: SubscriptionFilter,
): Promise<SubscriptionBatch> {
  const query = filteredBatchQuery(after, maxCount, filter);
  const result = await db.query<FilteredRow>(query.text, query.values);
  const events: RecordedEvent[] = [];
  for (const row of result.rows) {
    if (row.position === null) continue; // the head row when nothing matched
    events.push({
      eventId: row.event_id,
      streamId: row.stream_id,
      revision: BigInt(row.revision),
      position: BigInt(row.position),
      type: row.type,
      data: row.data,
      metadata: row.metadata,
      recordedAt: row.recorded_at,
    });
  }
  const head = BigInt(result.rows[0]?.head ?? 0);
  const scannedTo =
    events.length >= maxCount ? events[events.length - 1].position : head > after ? head : after;
  return { events, scannedTo, atHead: events.length < maxCount };
}

/**
 * Catch-up then live, one loop: read a batch after the last delivered position, await the
 * handler, repeat while a wake-up may stand for events not yet read; once caught up, wait for a
 * NOTIFY (sent by appends at commit, with the append's last position) or the idle poll. The
 * store's commit order guarantees that nothing ever appears below a position already read, so a
 * NOTIFY's position that was read is answered, and a wake-up without one is answered by a read
 * of its own that reaches the head (decision 046).
 *
 * With `readAhead`, a full batch (the subscription is catching up) has the next one read while
 * the handler works on it, and `readAhead` told of it: reads are still in position order, one
 * after another, and each batch is handed to the handler only after the one before resolved.
 */
export class PostgresSubscription implements Subscription {
  readonly finished: Promise<void>;
  private last: bigint;
  private stopping = false;
  /** Wake-ups since the last read began. */
  private fresh = nothingOwed();
  /** Wake-ups before the last read began that no read has answered yet. */
  private owed = nothingOwed();
  private wakeWaiter: (() => void) | undefined;
  private listener: Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempts = 0;

  constructor(private readonly options: PostgresSubscriptionOptions) {
    if (options.filter !== undefined) {
      validateSubscriptionFilter(options.filter);
      if (options.db === undefined) throw new Error('a filtered subscription needs `db` to read from');
    }
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
      /** The next batch, read while the handler worked on the last one. */
      let ahead: Promise<SubscriptionBatch> | undefined;
      while (!this.stopping) {
        let batch: SubscriptionBatch;
        try {
          const next = ahead ?? this.readNext(this.last);
          ahead = undefined;
          batch = await next;
          failedReads = 0;
        } catch (error) {
          if (!isRetriable(error) || failedReads >= MAX_READ_RETRIES) throw error;
          await this.waitForWake(backoffDelay(failedReads++, BACKOFF));
          continue;
        }
        if (this.stopping) break;
        // A read of its own that reached the head answers every wake-up before it began.
        if (batch.atHead) this.owed = nothingOwed();
        if (batch.events.length > 0) {
          const handled = this.options.handler(batch.events);
          if (this.options.readAhead && batch.events.length >= this.options.batchSize) {
            ahead = this.readAhead(batch.scannedTo);
          }
          await handled;
        }
        // Only non-matching events, or none: pass over them all the same.
        if (batch.scannedTo > this.last) this.last = batch.scannedTo;
        // Read again at once only while a wake-up may stand for events not yet read: a position
        // announced past the last one read, or a wake-up that announced none and that no read at
        // the head has answered. Otherwise sleep until the next NOTIFY or the idle poll.
        while (ahead === undefined && !this.stopping && !this.mayHaveMore()) {
          await this.waitForWake(this.options.idlePollMs);
        }
      }
    } finally {
      this.stopping = true;
      await this.unlisten();
      this.options.onEnded();
    }
  }

  /** Whether a wake-up may stand for committed events after the last one read. */
  private mayHaveMore(): boolean {
    for (const owed of [this.owed, this.fresh]) {
      if (owed.blind || owed.announced > this.last) return true;
    }
    return false;
  }

  /**
   * Moves the wake-ups so far to those the read it starts must answer, then reads: a NOTIFY that
   * arrives during the read is kept for the next decision.
   */
  private readNext(after: bigint): Promise<SubscriptionBatch> {
    this.owed = {
      announced: this.owed.announced > this.fresh.announced ? this.owed.announced : this.fresh.announced,
      blind: this.owed.blind || this.fresh.blind,
    };
    this.fresh = nothingOwed();
    return this.read(after);
  }

  /** The batch after `after`, `readAhead` told of it once read; a failure waits for the loop to take it. */
  private readAhead(after: bigint): Promise<SubscriptionBatch> {
    const next = this.readNext(after).then((batch) => {
      if (batch.events.length > 0 && !this.stopping) this.options.readAhead?.(batch.events);
      return batch;
    });
    next.catch(() => undefined); // taken (and retried) by the loop, or dropped with it when the handler failed
    return next;
  }

  private async read(after: bigint): Promise<SubscriptionBatch> {
    const { filter, db, batchSize } = this.options;
    if (filter !== undefined && db !== undefined) {
      return readFilteredBatch(db, after, batchSize, filter);
    }
    const { events, atHead } = await this.options.readAfter(after, batchSize);
    return { events, scannedTo: events.length > 0 ? events[events.length - 1].position : after, atHead };
  }

  /** A wake-up: `announced` is the position a NOTIFY gave, undefined when it gave none. */
  private wake(announced?: bigint): void {
    if (announced === undefined) this.fresh.blind = true;
    else if (announced > this.fresh.announced) this.fresh.announced = announced;
    this.wakeWaiter?.();
  }

  /** Resolves at the next wake-up, or after `timeoutMs` as a wake-up that announced nothing. */
  private waitForWake(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeWaiter = undefined;
        resolve();
      };
      const timer = setTimeout(() => {
        this.fresh.blind = true;
        done();
      }, timeoutMs);
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
      if (message.channel === this.options.notifyChannel) this.wake(announcedPosition(message.payload));
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
    this.reconnectTimer = setTimeout(
      () => void this.listen(),
      backoffDelay(this.reconnectAttempts++, BACKOFF),
    );
  }

  private async unlisten(): Promise<void> {
    clearTimeout(this.reconnectTimer);
    const client = this.listener;
    this.listener = undefined;
    if (client) await client.end().catch(() => undefined);
  }
}
