/**
 * The event store port. The PostgreSQL adapter is the default; an EventStoreDB adapter
 * implements the same port and passes the same contract suite.
 *
 * Streams are named `<category>-<id>` (e.g. `health-RX1-000123`); the category is the
 * part before the first dash.
 */

import { ThroughlineError } from '@throughline/platform';

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

/**
 * The `recordedBy` of the lineage metadata the recorder writes beside every agency event it
 * appends (recording's `lineageOf`): it validated the event against its contract first and
 * stores it as the contract read it.
 */
export const RECORDED_BY_RECORDER = 'recorder';

/**
 * Whether the recorder appended the event, as its lineage says: then it was validated against
 * its contract at intake, and readers may take it as written (contracts' `readStored`,
 * `validatedAtIntake`; decision 034). Only the apps' database role may append to the store
 * (decision 011), and of the apps only the recorder appends agency events.
 */
export function validatedAtIntake(recorded: Pick<RecordedEvent, 'metadata'>): boolean {
  return recorded.metadata?.recordedBy === RECORDED_BY_RECORDER;
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
  /**
   * Also treat a re-appended id whose `metadata` differs as a conflict (EventIdConflictError).
   * Default false: only `type` and `data` are compared, and the first metadata stays. Metadata
   * that describes the delivery rather than the fact (the recorder's lineage: Kafka offset,
   * timestamp) legitimately differs when the same event is published twice.
   */
  readonly compareMetadata?: boolean;
  /**
   * What of `data` a re-appended id is compared on (default: all of it). An imported event's
   * provenance (file, collection year, line) and the subject as that file reported it say
   * where and when it was read, not what it states: the recorder leaves them out for imported
   * events, so the same referral in next year's return is a duplicate and the first stays.
   */
  readonly comparableData?: (data: unknown) => unknown;
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

/** A page of a category or of an event type, in global position order. */
export interface ReadFilteredOptions {
  /** Exclusive: events with position > this. Default 0n (from the beginning). */
  readonly after?: bigint;
  readonly maxCount?: number; // default 1000
}

/**
 * Stream metadata, EventStoreDB semantics. Events are never removed (the table is
 * append-only): reads apply these rules, nothing else does. Setting metadata replaces the
 * whole document (absent keys are cleared).
 */
export interface StreamMetadata {
  /** Seconds: events recorded longer ago than this are not returned. */
  readonly maxAge?: number;
  /** Only the last `maxCount` events of the stream are returned. */
  readonly maxCount?: number;
  /** Events with a revision below this are not returned (soft delete sets it). */
  readonly truncateBefore?: bigint;
  /** Free-form, stored and returned as given (JSON). */
  readonly custom?: Readonly<Record<string, unknown>>;
}

/**
 * Metadata keys reserved for crypto-shredding (per-subject keys, destroyed to erase a
 * subject). Nothing implements them yet, so setStreamMetadata refuses them rather than
 * store a setting that would look honoured. Planned shape, on the stream:
 * `encryption: { keyId: string, algorithm: string }` (the key that encrypts the stream's
 * `data`); and on each event's own `metadata`, the same `encryption` key naming the key
 * and algorithm its `data` was encrypted with. Producers must not use `encryption` in event
 * metadata for anything else.
 */
export const RESERVED_STREAM_METADATA_KEYS = ['encryption'] as const;

export interface SubscribeOptions {
  /** Exclusive checkpoint: delivery starts after this position. Default 0n. */
  readonly after?: bigint;
  /** Most events handed to the handler at once. Default 500. */
  readonly batchSize?: number;
  /**
   * Server-side filter (applied in SQL): only events of the category (the stream id up to its
   * first dash; no dash allowed) and/or of one of the types are delivered; with both, an event
   * must match both. As for the unfiltered subscription, stream metadata is not applied.
   * Non-matching events are passed over, not re-read: `lastPosition()` then moves up to the
   * committed head the store was scanned to, so it can be past the last delivered event and
   * is the checkpoint to resume from.
   */
  readonly filter?: {
    readonly category?: string;
    readonly eventTypes?: readonly string[];
  };
  /**
   * Told of the next batch as soon as it is read, while the handler is still at work on the one
   * before: a subscription catching up (its last batch was full) reads one batch ahead, so the
   * store's read and this callback's work overlap the handler's. For work on the events alone
   * (parsing, validating, building rows) that needs nothing of the handler's effects; the batch is
   * then handed to the handler as usual, the same array. Called at most once per batch, never at
   * the head. An adapter may not read ahead (EventStoreDB's does not): then it is never called.
   */
  readonly readAhead?: (events: readonly RecordedEvent[]) => void;
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
   * An event id already stored in another stream is refused with ILLEGAL_STATE. An id
   * re-appended to its stream with a different type or data (or metadata, with
   * `compareMetadata`) is refused with EventIdConflictError; a tombstoned stream with
   * StreamTombstonedError.
   */
  append(
    streamId: string,
    events: readonly EventToAppend[],
    expectedRevision?: ExpectedRevision,
  ): Promise<AppendResult>;
  /** Several streams, each with its own expectation, all or nothing, plus optional checkpoints. */
  appendMany(appends: readonly StreamAppend[], options?: AppendOptions): Promise<AppendResult[]>;
  /**
   * Honours the stream's metadata (maxAge, maxCount, truncateBefore): a soft-deleted stream
   * reads as empty. A tombstoned stream throws StreamTombstonedError.
   */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** Every event in global order; stream metadata is NOT applied (as EventStoreDB's $all). */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * Events of the streams `<category>-…` (the stream id up to its first dash), in global
   * order, honouring each stream's metadata; tombstoned streams are left out.
   */
  readCategory(category: string, options?: ReadFilteredOptions): Promise<RecordedEvent[]>;
  /** Events of one type, in global order, honouring each stream's metadata; tombstoned streams left out. */
  readByType(type: string, options?: ReadFilteredOptions): Promise<RecordedEvent[]>;
  /** Replaces the stream's metadata. Throws StreamTombstonedError on a tombstoned stream. */
  setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void>;
  /** `{}` when none was set. Throws StreamTombstonedError on a tombstoned stream. */
  getStreamMetadata(streamId: string): Promise<StreamMetadata>;
  /**
   * Soft delete: sets truncateBefore to the last revision + 1 (other metadata kept), so reads
   * answer as if the stream were empty. A later append reopens it and its revisions continue
   * from where they were (expectations still see the last revision: use 'any' or it).
   */
  deleteStream(streamId: string, expectedRevision?: ExpectedRevision): Promise<void>;
  /**
   * Hard delete: the stream can never be read or appended to again (StreamTombstonedError).
   * Its events stay in the append-only table and in readAll.
   */
  tombstoneStream(streamId: string, expectedRevision?: ExpectedRevision): Promise<void>;
  /** Catch-up subscription over all events, switching to live without a gap or a duplicate. */
  subscribeToAll(handler: SubscriptionHandler, options?: SubscribeOptions): Subscription;
  readCheckpoint(name: string): Promise<string | undefined>;
  /** Highest committed position (0n when empty). */
  headPosition(): Promise<bigint>;
  close(): Promise<void>;
}

/**
 * An event id that is already stored (or appears earlier in the same append) with a
 * different type or data (or metadata, when compared). A retry must resend the same event;
 * nothing of the append is written.
 */
export class EventIdConflictError extends ThroughlineError {
  constructor(
    readonly streamId: string,
    readonly eventId: string,
    readonly differingFields: readonly ('type' | 'data' | 'metadata')[],
  ) {
    super(
      'ILLEGAL_STATE',
      `event id ${eventId} is already stored in stream ${streamId} with a different ${differingFields.join(', ')}`,
      { details: { streamId, eventId, differingFields } },
    );
  }
}

/** The stream was hard-deleted (tombstoned): it can be neither read nor appended to. */
export class StreamTombstonedError extends ThroughlineError {
  constructor(readonly streamId: string) {
    super(
      'ILLEGAL_STATE',
      `stream ${streamId} is tombstoned (hard-deleted): it cannot be read or appended to`,
      {
        details: { streamId },
      },
    );
  }
}
