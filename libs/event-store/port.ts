/**
 * The event store port. The PostgreSQL adapter is the default; an EventStoreDB adapter
 * implements the same port and passes the same contract suite.
 *
 * Streams are named `<category>-<id>` (e.g. `health-RX1-000123`); the category is the
 * part before the first dash.
 */

/** EventStoreDB-style expectations: any, no stream, stream exists, or an exact revision (0-based). */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

export interface EventToAppend {
  /** UUID; appends are idempotent by it. */
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface RecordedEvent {
  readonly eventId: string;
  readonly streamId: string;
  /** 0-based position within its stream. */
  readonly revision: bigint;
  /** Global, strictly increasing position in the store; readers see them in this order without gaps. */
  readonly position: bigint;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly recordedAt: Date;
}

export interface StreamAppend {
  readonly streamId: string;
  readonly events: readonly EventToAppend[];
  readonly expectedRevision?: ExpectedRevision; // default 'any'
}

export interface AppendResult {
  readonly streamId: string;
  /** Revision of the last event in the stream after the append (-1n for an empty stream). */
  readonly nextExpectedRevision: bigint;
  /** Position of each appended event, in input order; a re-appended id returns its original position. */
  readonly positions: readonly bigint[];
  /** Ids that were already stored (idempotent re-append), so nothing new was written for them. */
  readonly duplicateEventIds: readonly string[];
}

export interface AppendOptions {
  /**
   * Named checkpoints written in the same transaction as the events (e.g. the recorder's
   * consumed Kafka offsets). All or nothing with the events.
   */
  readonly checkpoints?: Readonly<Record<string, string>>;
}

export interface ReadStreamOptions {
  readonly fromRevision?: bigint; // default: start (forwards) or end (backwards)
  readonly direction?: 'forwards' | 'backwards';
  readonly maxCount?: number; // default 1000
}

export interface ReadAllOptions {
  /** Exclusive: events with position > this. Default 0n (from the beginning). */
  readonly after?: bigint;
  readonly maxCount?: number; // default 1000
}

export interface SubscribeOptions {
  /** Exclusive checkpoint: delivery starts after this position. Default 0n. */
  readonly after?: bigint;
  /** Most events handed to the handler at once. Default 500. */
  readonly batchSize?: number;
}

/** Receives batches in position order; the next batch is not read until this one resolves. */
export type SubscriptionHandler = (events: readonly RecordedEvent[]) => Promise<void>;

export interface Subscription {
  /** Stops after the batch in hand; resolves when stopped. */
  stop(): Promise<void>;
  /** Settles when the subscription ends: resolves on stop(), rejects if the handler or the store fails. */
  readonly finished: Promise<void>;
  /** Position of the last event handed to the handler and resolved. */
  lastPosition(): bigint;
}

export interface EventStore {
  /**
   * A failed expectation throws ConcurrencyError(streamId, expected, actual): `expected` is
   * `no_stream`, `stream_exists` or a revision; `actual` the last revision or `no_stream`.
   * An append whose events are all already stored in this stream succeeds whatever its
   * expectation, returning the original positions (it is the retry of a committed append).
   * An event id already stored in another stream is refused with ILLEGAL_STATE.
   */
  append(
    streamId: string,
    events: readonly EventToAppend[],
    expectedRevision?: ExpectedRevision,
  ): Promise<AppendResult>;
  /** Several streams, each with its own expectation, all or nothing, plus optional checkpoints. */
  appendMany(appends: readonly StreamAppend[], options?: AppendOptions): Promise<AppendResult[]>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Catch-up subscription over all events, switching to live without a gap or a duplicate. */
  subscribeToAll(handler: SubscriptionHandler, options?: SubscribeOptions): Subscription;
  readCheckpoint(name: string): Promise<string | undefined>;
  /** Highest committed position (0n when empty). */
  headPosition(): Promise<bigint>;
  close(): Promise<void>;
}
