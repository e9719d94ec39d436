import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  excludeSystemEvents,
  jsonEvent,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type JSONType,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { ConcurrencyError, ThroughlineError, UnavailableError } from '@throughline/platform';
import {
  eventIdKey,
  planAppends,
  validateAppends,
  validateCategory,
  validateEventType,
  validateExpectedRevision,
  validateStreamId,
  validateStreamMetadata,
  type StoredEventRef,
} from './append-plan';
import {
  StreamTombstonedError,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadFilteredOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamAppend,
  type StreamMetadata,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionHandler,
} from './port';

/**
 * The event store port over EventStoreDB / KurrentDB (gRPC, @eventstore/db-client).
 *
 * Mapping: a stream is an EventStoreDB stream of the same name; `revision` is the stream
 * revision; `position` is the commit position in the transaction log (strictly increasing,
 * not contiguous, as with the PostgreSQL adapter). The append is planned by the same pure
 * code as the PostgreSQL adapter (append-plan.ts) from what the target streams hold, then
 * written with the exact revision that was read, so a concurrent writer turns into a
 * ConcurrencyError (retried for `any`), never into a lost or reordered event.
 *
 * Differences from the PostgreSQL adapter, stated rather than hidden:
 * - appendMany is NOT atomic across streams: EventStoreDB before KurrentDB 25.1 has no
 *   multi-stream transaction. Streams are written one after the other and the checkpoints
 *   last. A crash in between leaves some streams written and the checkpoint behind, so the
 *   recorder redelivers those events and the idempotent append stores nothing twice.
 * - an event id is checked against the streams being appended to, not store-wide: the
 *   PostgreSQL adapter's ILLEGAL_STATE for an id reused in an unrelated stream is not
 *   detected here.
 * - checkpoints live in streams `$tl-checkpoint-<name>` (max count 1).
 * - readCategory / readByType read the system projection streams `$ce-<category>` and
 *   `$et-<type>` (links resolved, so the server applies stream metadata): they need the
 *   $by_category and $by_event_type projections running (otherwise they answer empty), and
 *   each page is read from the start of that stream, skipping up to `after`.
 * - stream metadata and deletes are the server's own; `stream_exists` on a delete is sent as
 *   `any`. The planner sees only the events a read returns, so after a soft delete or under
 *   maxCount it does not see the hidden ids (nor the revision before a soft delete).
 * - none of this has run against a server on the development machine (see the spec).
 */
export interface EventStoreDbOptions {
  /** e.g. `esdb://127.0.0.1:2113?tls=false` */
  readonly connectionString: string;
  /** How many times an `any` append is replanned after losing a race. Default 5. */
  readonly maxAppendRetries?: number;
}

const CHECKPOINT_PREFIX = '$tl-checkpoint-';

export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly maxAppendRetries: number;

  constructor(options: EventStoreDbOptions) {
    this.client = EventStoreDBClient.connectionString`${options.connectionString}`;
    this.maxAppendRetries = options.maxAppendRetries ?? 5;
  }

  async append(
    streamId: string,
    events: readonly EventToAppend[],
    expectedRevision: ExpectedRevision = 'any',
  ): Promise<AppendResult> {
    const [result] = await this.appendMany([{ streamId, events, expectedRevision }]);
    return result;
  }

  async appendMany(appends: readonly StreamAppend[], options: AppendOptions = {}): Promise<AppendResult[]> {
    validateAppends(appends, options);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.tryAppendMany(appends, options);
      } catch (error) {
        // Lost a race with another writer between reading the streams and writing them.
        const raced = error instanceof WrongExpectedVersionError;
        const onlyAny = appends.every((append) => (append.expectedRevision ?? 'any') === 'any');
        if (!raced)
          throw error instanceof StreamDeletedError
            ? translateDeleted(error, error.streamName)
            : translate(error);
        if (!onlyAny || attempt >= this.maxAppendRetries) {
          throw new ConcurrencyError(
            error.streamName,
            String(error.expectedVersion),
            String(error.actualVersion),
          );
        }
      }
    }
  }

  private async tryAppendMany(
    appends: readonly StreamAppend[],
    options: AppendOptions,
  ): Promise<AppendResult[]> {
    const streamIds = [...new Set(appends.map((append) => append.streamId))];
    const stored = new Map<string, StoredEventRef>();
    const currentRevisions = new Map<string, bigint>();
    for (const streamId of streamIds) {
      const events = await this.readWholeStream(streamId);
      currentRevisions.set(streamId, events.length === 0 ? -1n : events[events.length - 1].revision);
      for (const event of events) {
        stored.set(eventIdKey(event.eventId), {
          streamId,
          position: event.position,
          type: event.type,
          data: event.data,
          metadata: event.metadata,
        });
      }
    }
    const plan = planAppends(appends, options, stored, currentRevisions);

    const rowPositions: bigint[] = new Array<bigint>(plan.rows.length);
    for (const streamId of streamIds) {
      const rows = plan.rows
        .map((row, index) => ({ row, index }))
        .filter(({ row }) => row.streamId === streamId);
      if (rows.length === 0) continue;
      const current = currentRevisions.get(streamId) ?? -1n;
      await this.client.appendToStream(
        streamId,
        rows.map(({ row }) =>
          jsonEvent({
            id: row.eventId,
            type: row.type,
            data: JSON.parse(row.data) as JSONType,
            metadata: JSON.parse(row.metadata) as JSONType,
          }),
        ),
        { expectedRevision: current < 0n ? NO_STREAM : current },
      );
      // The append answers one position; read the new events back for each one's own.
      const written = await this.readStream(streamId, { fromRevision: current + 1n, maxCount: rows.length });
      rows.forEach(({ index }, i) => (rowPositions[index] = written[i].position));
    }
    for (const [name, value] of plan.checkpoints) await this.writeCheckpoint(name, value);

    return plan.results.map((result) => ({
      streamId: result.streamId,
      nextExpectedRevision: result.nextExpectedRevision,
      duplicateEventIds: result.duplicateEventIds,
      positions: result.positions.map((source) =>
        source.kind === 'stored' ? source.position : rowPositions[source.row],
      ),
    }));
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const direction = options.direction ?? 'forwards';
    const events: RecordedEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        direction: direction === 'forwards' ? FORWARDS : BACKWARDS,
        fromRevision: options.fromRevision ?? (direction === 'forwards' ? START : END),
        maxCount: options.maxCount ?? 1000,
      });
      for await (const resolved of read) {
        const event = toRecorded(resolved);
        if (event) events.push(event);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw translateDeleted(error, streamId);
    }
    return events;
  }

  /**
   * Reads the system projection stream `$ce-<category>` with links resolved, so the server
   * applies each stream's metadata (a link to a truncated event does not resolve). Needs the
   * $by_category projection running; pages from the start of that stream up to `after`.
   */
  async readCategory(category: string, options: ReadFilteredOptions = {}): Promise<RecordedEvent[]> {
    validateCategory(category);
    return this.readLinked(`$ce-${category}`, options);
  }

  /** As readCategory, over `$et-<type>` (needs the $by_event_type projection). */
  async readByType(type: string, options: ReadFilteredOptions = {}): Promise<RecordedEvent[]> {
    validateEventType(type);
    return this.readLinked(`$et-${type}`, options);
  }

  private async readLinked(streamId: string, options: ReadFilteredOptions): Promise<RecordedEvent[]> {
    const after = options.after ?? 0n;
    const maxCount = options.maxCount ?? 1000;
    const events: RecordedEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        direction: FORWARDS,
        fromRevision: START,
        resolveLinkTos: true,
      });
      for await (const resolved of read) {
        const event = toRecorded(resolved);
        if (event && event.position > after) events.push(event);
        if (events.length === maxCount) {
          await read.cancel();
          break;
        }
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw translate(error);
    }
    return events;
  }

  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    validateStreamId(streamId);
    validateStreamMetadata(metadata);
    try {
      await this.client.setStreamMetadata(streamId, {
        ...(metadata.custom === undefined ? {} : { custom: metadata.custom }),
        ...(metadata.maxAge === undefined ? {} : { maxAge: metadata.maxAge }),
        ...(metadata.maxCount === undefined ? {} : { maxCount: metadata.maxCount }),
        ...(metadata.truncateBefore === undefined ? {} : { truncateBefore: Number(metadata.truncateBefore) }),
      });
    } catch (error) {
      throw translateDeleted(error, streamId);
    }
  }

  async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
    validateStreamId(streamId);
    try {
      const { metadata } = await this.client.getStreamMetadata(streamId);
      if (metadata === undefined) return {};
      return {
        ...(metadata.maxAge === undefined ? {} : { maxAge: metadata.maxAge }),
        ...(metadata.maxCount === undefined ? {} : { maxCount: metadata.maxCount }),
        ...(typeof metadata.truncateBefore === 'number'
          ? { truncateBefore: BigInt(metadata.truncateBefore) }
          : {}),
        ...(metadata.custom === undefined ? {} : { custom: metadata.custom as Record<string, unknown> }),
      };
    } catch (error) {
      throw translateDeleted(error, streamId);
    }
  }

  async deleteStream(streamId: string, expectedRevision: ExpectedRevision = 'any'): Promise<void> {
    validateStreamId(streamId);
    validateExpectedRevision(expectedRevision);
    try {
      await this.client.deleteStream(streamId, { expectedRevision: toServerExpectation(expectedRevision) });
    } catch (error) {
      if (error instanceof StreamNotFoundError) return;
      throw translateDeleted(error, streamId);
    }
  }

  async tombstoneStream(streamId: string, expectedRevision: ExpectedRevision = 'any'): Promise<void> {
    validateStreamId(streamId);
    validateExpectedRevision(expectedRevision);
    try {
      await this.client.tombstoneStream(streamId, {
        expectedRevision: toServerExpectation(expectedRevision),
      });
    } catch (error) {
      throw translateDeleted(error, streamId);
    }
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = options.after ?? 0n;
    const maxCount = options.maxCount ?? 1000;
    const events: RecordedEvent[] = [];
    try {
      // fromPosition is inclusive: ask for one more and drop the event at `after` itself.
      const read = this.client.readAll({
        direction: FORWARDS,
        fromPosition: after === 0n ? START : { commit: after, prepare: after },
        maxCount: maxCount + 1,
      });
      for await (const resolved of read) {
        const event = toRecorded(resolved);
        if (event && event.position > after && !isInternal(event.streamId)) events.push(event);
        if (events.length === maxCount) break;
      }
    } catch (error) {
      throw translate(error);
    }
    return events;
  }

  subscribeToAll(handler: SubscriptionHandler, options: SubscribeOptions = {}): Subscription {
    return new EventStoreDbSubscription(this.client, handler, options);
  }

  async readCheckpoint(name: string): Promise<string | undefined> {
    const [last] = await this.readStream(`${CHECKPOINT_PREFIX}${name}`, {
      direction: 'backwards',
      maxCount: 1,
    });
    return last === undefined ? undefined : (last.data as { value: string }).value;
  }

  private async writeCheckpoint(name: string, value: string): Promise<void> {
    const streamId = `${CHECKPOINT_PREFIX}${name}`;
    await this.client.appendToStream(streamId, jsonEvent({ type: 'CheckpointMoved', data: { value } }));
    await this.client.setStreamMetadata(streamId, { maxCount: 1 });
  }

  async headPosition(): Promise<bigint> {
    const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 100 });
    for await (const resolved of read) {
      const event = toRecorded(resolved);
      if (event && !isInternal(event.streamId)) {
        await read.cancel();
        return event.position;
      }
    }
    return 0n;
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }

  /** Per-subject streams are short; the planner needs every id already in the stream. */
  private async readWholeStream(streamId: string): Promise<RecordedEvent[]> {
    const all: RecordedEvent[] = [];
    for (let from = 0n; ;) {
      const page = await this.readStream(streamId, { fromRevision: from, maxCount: 1000 });
      all.push(...page);
      if (page.length < 1000) return all;
      from = page[page.length - 1].revision + 1n;
    }
  }
}

/** The port's subscription filter, applied exactly on the client (category = stream id before the first dash). */
function matchesFilter(event: RecordedEvent, filter: SubscribeOptions['filter']): boolean {
  if (!filter) return true;
  if (filter.category !== undefined && event.streamId.split('-', 1)[0] !== filter.category) return false;
  if (filter.eventTypes !== undefined && !filter.eventTypes.includes(event.type)) return false;
  return true;
}

/** Streams EventStoreDB keeps for itself, and this adapter's checkpoint streams. */
function isInternal(streamId: string): boolean {
  return streamId.startsWith('$');
}

function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event;
  if (!event || !event.isJson) return undefined;
  const position = event.position?.commit ?? resolved.commitPosition;
  if (position === undefined) {
    throw new ThroughlineError(
      'ILLEGAL_STATE',
      `EventStoreDB returned ${event.streamId}@${event.revision} without a position`,
    );
  }
  return {
    eventId: event.id,
    streamId: event.streamId,
    revision: event.revision,
    position,
    type: event.type,
    data: event.data,
    metadata: (event.metadata ?? {}) as Record<string, unknown>,
    recordedAt: event.created,
  };
}

/** 'stream_exists' has no delete-time equivalent on the server: it is sent as 'any'. */
function toServerExpectation(expected: ExpectedRevision): 'any' | 'no_stream' | bigint {
  return expected === 'stream_exists' ? 'any' : expected;
}

function translateDeleted(error: unknown, streamId: string): unknown {
  if (error instanceof StreamDeletedError) return new StreamTombstonedError(streamId);
  if (error instanceof WrongExpectedVersionError) {
    return new ConcurrencyError(streamId, String(error.expectedVersion), String(error.actualVersion));
  }
  return translate(error);
}

function translate(error: unknown): unknown {
  if (error instanceof ThroughlineError) return error;
  const name = (error as Error | undefined)?.constructor?.name ?? '';
  if (['UnavailableError', 'DeadlineExceededError', 'TimeoutError', 'NotLeaderError'].includes(name)) {
    return new UnavailableError(`EventStoreDB: ${(error as Error).message}`, error);
  }
  return error;
}

/**
 * A catch-up subscription to $all (system events excluded) handing the handler batches in
 * position order. Back-pressure: the gRPC stream is paused while a batch is in the handler.
 */
class EventStoreDbSubscription implements Subscription {
  readonly finished: Promise<void>;
  private last: bigint;
  private readonly queue: RecordedEvent[] = [];
  private readonly source: AllStreamSubscription;
  private draining: Promise<void> | undefined;
  private stopped = false;
  private settle!: { resolve: () => void; reject: (error: unknown) => void };

  constructor(
    client: EventStoreDBClient,
    private readonly handler: SubscriptionHandler,
    private readonly options: SubscribeOptions,
  ) {
    this.last = options.after ?? 0n;
    this.finished = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    this.source = client.subscribeToAll({
      fromPosition: this.last === 0n ? START : { commit: this.last, prepare: this.last },
      filter: excludeSystemEvents(),
    });
    this.source.on('data', (resolved: AllStreamResolvedEvent) => {
      const event = toRecorded(resolved);
      if (!event || event.position <= this.last || isInternal(event.streamId)) return;
      if (!matchesFilter(event, this.options.filter)) return;
      this.queue.push(event);
      if (this.queue.length >= (this.options.batchSize ?? 500)) this.source.pause();
      void this.drain();
    });
    this.source.on('error', (error) => void this.fail(error));
  }

  private drain(): Promise<void> {
    this.draining ??= this.drainQueue().finally(() => (this.draining = undefined));
    return this.draining;
  }

  private async drainQueue(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const batch = this.queue.splice(0, this.options.batchSize ?? 500);
        await this.handler(batch);
        this.last = batch[batch.length - 1].position;
      }
      if (!this.stopped) this.source.resume();
    } catch (error) {
      await this.fail(error);
    }
  }

  private async fail(error: unknown): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.source.unsubscribe().catch(() => undefined);
    this.settle.reject(translate(error));
  }

  /** Stops after the batch in hand. */
  async stop(): Promise<void> {
    if (this.stopped) return this.finished.catch(() => undefined);
    this.stopped = true;
    await this.draining;
    await this.source.unsubscribe();
    this.settle.resolve();
    return this.finished;
  }

  lastPosition(): bigint {
    return this.last;
  }
}
