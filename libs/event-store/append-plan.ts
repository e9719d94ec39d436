import { ConcurrencyError, ThroughlineError, ValidationError, type FieldIssue } from '@throughline/platform';
import {
  EventIdConflictError,
  RESERVED_STREAM_METADATA_KEYS,
  type AppendOptions,
  type AppendResult,
  type ExpectedRevision,
  type StreamAppend,
  type StreamMetadata,
} from './port';

/**
 * The pure centre of an append: validate the input, then decide — from what is already
 * stored — which events are new, which are idempotent re-appends, and whether every
 * expectation holds. The adapter does the I/O around it.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the store already holds for an event id (looked up before planning). */
export interface StoredEventRef {
  readonly streamId: string;
  readonly position: bigint;
  /** The stored payload, compared with a re-append of the same id. */
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
}

/** JSON text with object keys sorted, so equal JSON values give equal text (jsonb reorders keys). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === 'object' && inner !== null && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : inner,
  );
}

type PayloadField = 'type' | 'data' | 'metadata';

/** Which of type, data and metadata differ between two payloads (JSON given as text or values). */
function differingFields(
  earlier: { type: string; data: unknown; metadata: unknown },
  later: { type: string; data: unknown; metadata: unknown },
  compareMetadata: boolean,
  comparable: (data: unknown) => unknown = (data) => data,
): PayloadField[] {
  const fields: PayloadField[] = [];
  if (earlier.type !== later.type) fields.push('type');
  if (canonicalJson(comparable(earlier.data)) !== canonicalJson(comparable(later.data))) fields.push('data');
  if (compareMetadata && canonicalJson(earlier.metadata) !== canonicalJson(later.metadata)) {
    fields.push('metadata');
  }
  return fields;
}

/** A row to insert; `data` and `metadata` are already JSON text. */
export interface PlannedRow {
  readonly streamId: string;
  readonly revision: bigint;
  readonly eventId: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

/** Where an event's position comes from: already stored, or the n-th planned row. */
export type PositionSource =
  { readonly kind: 'stored'; readonly position: bigint } | { readonly kind: 'planned'; readonly row: number };

export interface PlannedResult {
  readonly streamId: string;
  readonly nextExpectedRevision: bigint;
  readonly positions: readonly PositionSource[];
  readonly duplicateEventIds: readonly string[];
}

export interface AppendPlan {
  readonly rows: readonly PlannedRow[];
  /** Last revision per stream after the append, only for streams that get new rows. */
  readonly streamRevisions: ReadonlyMap<string, bigint>;
  readonly results: readonly PlannedResult[];
  readonly checkpoints: readonly (readonly [name: string, value: string])[];
}

/** Event ids compare case-insensitively (PostgreSQL stores uuids in lower case). */
export function eventIdKey(eventId: string): string {
  return eventId.toLowerCase();
}

export function describeExpectedRevision(expected: ExpectedRevision): string {
  return typeof expected === 'bigint' ? expected.toString() : expected;
}

/** `-1n` (or absent) means the stream has no events; reported as `no_stream`. */
export function describeActualRevision(current: bigint): string {
  return current < 0n ? 'no_stream' : current.toString();
}

export function expectationHolds(expected: ExpectedRevision, current: bigint): boolean {
  if (typeof expected === 'bigint') return expected === current;
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return current < 0n;
    case 'stream_exists':
      return current >= 0n;
    default: {
      const unhandled: never = expected;
      throw new Error(`unknown expectation ${String(unhandled)}`);
    }
  }
}

function toJsonText(value: unknown, path: string, issues: FieldIssue[]): string {
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text;
  } catch {
    // fall through: bigint, cycles and the like are not JSON
  }
  issues.push({ path, rule: 'json', message: 'must be JSON-serialisable' });
  return 'null';
}

/** Serialised text as toJsonText would give it: an issue (and 'null') where there is none. */
function textOrIssue(text: string | undefined, path: string, issues: FieldIssue[]): string {
  if (text !== undefined) return text;
  issues.push({ path, rule: 'json', message: 'must be JSON-serialisable' });
  return 'null';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rejects malformed input before anything touches the database. */
export function validateAppends(appends: readonly StreamAppend[], options: AppendOptions = {}): void {
  const issues: FieldIssue[] = [];
  appends.forEach((append, a) => {
    const at = `appends.${a}`;
    if (typeof append.streamId !== 'string' || append.streamId.length === 0) {
      issues.push({ path: `${at}.streamId`, rule: 'required', message: 'must be a non-empty string' });
    }
    const expected = append.expectedRevision ?? 'any';
    if (
      typeof expected === 'bigint'
        ? expected < -1n
        : !['any', 'no_stream', 'stream_exists'].includes(expected)
    ) {
      issues.push({
        path: `${at}.expectedRevision`,
        rule: 'expected_revision',
        message: "must be 'any', 'no_stream', 'stream_exists' or a revision >= -1",
      });
    }
    append.events.forEach((event, e) => {
      const path = `${at}.events.${e}`;
      if (typeof event.eventId !== 'string' || !UUID.test(event.eventId)) {
        issues.push({ path: `${path}.eventId`, rule: 'uuid', message: 'must be a UUID' });
      }
      if (typeof event.type !== 'string' || event.type.length === 0) {
        issues.push({ path: `${path}.type`, rule: 'required', message: 'must be a non-empty string' });
      }
      if (event.metadata !== undefined && !isPlainObject(event.metadata)) {
        issues.push({ path: `${path}.metadata`, rule: 'object', message: 'must be an object' });
      }
    });
  });
  if (options.compareMetadata !== undefined && typeof options.compareMetadata !== 'boolean') {
    issues.push({ path: 'compareMetadata', rule: 'boolean', message: 'must be true or false' });
  }
  for (const [name, value] of Object.entries(options.checkpoints ?? {})) {
    if (name.length === 0 || typeof value !== 'string') {
      issues.push({ path: `checkpoints.${name}`, rule: 'string', message: 'name and value must be strings' });
    }
  }
  if (issues.length > 0) throw new ValidationError('invalid append', issues);
}

function fail(message: string, path: string, rule: string, detail: string): never {
  throw new ValidationError(message, [{ path, rule, message: detail }]);
}

/** For deletes: the same expectations as an append. */
export function validateExpectedRevision(expected: ExpectedRevision): void {
  if (
    typeof expected === 'bigint' ? expected < -1n : !['any', 'no_stream', 'stream_exists'].includes(expected)
  ) {
    fail(
      'invalid expected revision',
      'expectedRevision',
      'expected_revision',
      "must be 'any', 'no_stream', 'stream_exists' or a revision >= -1",
    );
  }
}

export function validateStreamId(streamId: string): void {
  if (typeof streamId !== 'string' || streamId.length === 0) {
    fail('invalid stream', 'streamId', 'required', 'must be a non-empty string');
  }
}

/** A category is the part of a stream id before its first dash: non-empty, no dash. */
export function validateCategory(category: string): void {
  if (typeof category !== 'string' || category.length === 0 || category.includes('-')) {
    fail('invalid read', 'category', 'category', 'must be a non-empty string without a dash');
  }
}

export function validateEventType(type: string): void {
  if (typeof type !== 'string' || type.length === 0) {
    fail('invalid read', 'type', 'required', 'must be a non-empty string');
  }
}

const STREAM_METADATA_KEYS = new Set(['maxAge', 'maxCount', 'truncateBefore', 'custom']);

/** maxAge and maxCount positive integers, truncateBefore a bigint >= 0, custom a JSON object; nothing else. */
export function validateStreamMetadata(metadata: StreamMetadata): void {
  const issues: FieldIssue[] = [];
  if (!isPlainObject(metadata)) {
    fail('invalid stream metadata', 'metadata', 'object', 'must be an object');
  }
  for (const key of Object.keys(metadata)) {
    if ((RESERVED_STREAM_METADATA_KEYS as readonly string[]).includes(key)) {
      issues.push({
        path: `metadata.${key}`,
        rule: 'reserved',
        message: 'is reserved for crypto-shredding and not implemented yet',
      });
    } else if (!STREAM_METADATA_KEYS.has(key)) {
      issues.push({
        path: `metadata.${key}`,
        rule: 'unknown_key',
        message: 'is not a stream metadata key (maxAge, maxCount, truncateBefore, custom)',
      });
    }
  }
  for (const key of ['maxAge', 'maxCount'] as const) {
    const value: unknown = metadata[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)) {
      issues.push({
        path: `metadata.${key}`,
        rule: 'positive_integer',
        message: 'must be a positive integer',
      });
    }
  }
  const { truncateBefore, custom } = metadata;
  if (truncateBefore !== undefined && (typeof truncateBefore !== 'bigint' || truncateBefore < 0n)) {
    issues.push({ path: 'metadata.truncateBefore', rule: 'revision', message: 'must be a bigint >= 0' });
  }
  if (custom !== undefined) {
    if (!isPlainObject(custom)) {
      issues.push({ path: 'metadata.custom', rule: 'object', message: 'must be an object' });
    } else {
      toJsonText(custom, 'metadata.custom', issues);
    }
  }
  if (issues.length > 0) throw new ValidationError('invalid stream metadata', issues);
}

/**
 * Decides the whole append, all streams together, in input order (a stream may appear
 * more than once). Throws ConcurrencyError on a failed expectation, ILLEGAL_STATE when
 * an event id is already used in another stream, and EventIdConflictError when an id comes
 * back to its stream with a different type or data (or metadata, with `compareMetadata`);
 * nothing is written then.
 *
 * A pure re-append (every event id already stored in that stream) succeeds whatever its
 * expectation and returns the original positions: it is the retry of an append that
 * committed, and the expectation held when it did.
 */
/** An event's data and metadata as JSON text; undefined where the value is not JSON. */
export interface EventJson {
  readonly data: string | undefined;
  readonly metadata: string | undefined;
}

/**
 * Every event's JSON text, per append, in input order. The adapter computes it while the
 * database takes the lock and looks up what is stored, then hands it to planAppends.
 */
export function serialiseEvents(appends: readonly StreamAppend[]): EventJson[][] {
  return appends.map((append) =>
    append.events.map((event) => ({
      data: jsonTextOrUndefined(event.data ?? null),
      metadata: jsonTextOrUndefined(event.metadata ?? {}),
    })),
  );
}

export function planAppends(
  appends: readonly StreamAppend[],
  options: AppendOptions,
  stored: ReadonlyMap<string, StoredEventRef>,
  currentRevisions: ReadonlyMap<string, bigint>,
  serialised?: readonly (readonly EventJson[])[],
): AppendPlan {
  const rows: PlannedRow[] = [];
  const revisions = new Map(currentRevisions);
  const streamRevisions = new Map<string, bigint>();
  const plannedIds = new Map<string, { streamId: string; row: number }>();
  const issues: FieldIssue[] = [];

  const results = appends.map((append, a): PlannedResult => {
    const { streamId } = append;
    const current = revisions.get(streamId) ?? -1n;
    const positions: PositionSource[] = [];
    const duplicateEventIds: string[] = [];
    let revision = current;
    let fresh = 0;

    append.events.forEach((event, e) => {
      const key = eventIdKey(event.eventId);
      const storedRef = stored.get(key);
      const plannedRef = plannedIds.get(key);
      const earlierStreamId = storedRef?.streamId ?? plannedRef?.streamId;
      const json = serialised?.[a]?.[e];
      const data =
        json === undefined
          ? toJsonText(event.data ?? null, `appends.${a}.events.${e}.data`, issues)
          : textOrIssue(json.data, `appends.${a}.events.${e}.data`, issues);
      const metadata =
        json === undefined
          ? toJsonText(event.metadata ?? {}, `appends.${a}.events.${e}.metadata`, issues)
          : textOrIssue(json.metadata, `appends.${a}.events.${e}.metadata`, issues);
      if (earlierStreamId === undefined) {
        // Rows are planned before the expectation check; a failed check discards the plan.
        fresh += 1;
        revision += 1n;
        const row = rows.length;
        rows.push({ streamId, revision, eventId: event.eventId, type: event.type, data, metadata });
        plannedIds.set(key, { streamId, row });
        positions.push({ kind: 'planned', row });
        return;
      }
      if (earlierStreamId !== streamId) {
        throw new ThroughlineError(
          'ILLEGAL_STATE',
          `event id ${event.eventId} is already used in stream ${earlierStreamId}, cannot append it to ${streamId}`,
          { details: { eventId: event.eventId, streamId, storedStreamId: earlierStreamId } },
        );
      }
      if (issues.length === 0) {
        const earlier =
          storedRef ??
          (plannedRef === undefined
            ? undefined
            : {
                type: rows[plannedRef.row].type,
                data: JSON.parse(rows[plannedRef.row].data) as unknown,
                metadata: JSON.parse(rows[plannedRef.row].metadata) as unknown,
              });
        const differing =
          earlier === undefined
            ? []
            : differingFields(
                earlier,
                {
                  type: event.type,
                  data: JSON.parse(data) as unknown,
                  metadata: JSON.parse(metadata) as unknown,
                },
                options.compareMetadata === true,
                options.comparableData,
              );
        if (differing.length > 0) throw new EventIdConflictError(streamId, event.eventId, differing);
      }
      duplicateEventIds.push(event.eventId);
      if (storedRef !== undefined) positions.push({ kind: 'stored', position: storedRef.position });
      else if (plannedRef !== undefined) positions.push({ kind: 'planned', row: plannedRef.row });
    });

    const pureReappend = append.events.length > 0 && fresh === 0;
    const expected = append.expectedRevision ?? 'any';
    if (!pureReappend && !expectationHolds(expected, current)) {
      throw new ConcurrencyError(
        streamId,
        describeExpectedRevision(expected),
        describeActualRevision(current),
      );
    }
    if (fresh > 0) {
      revisions.set(streamId, revision);
      streamRevisions.set(streamId, revision);
    }
    return { streamId, nextExpectedRevision: revision, positions, duplicateEventIds };
  });

  if (issues.length > 0) throw new ValidationError('invalid append', issues);
  return { rows, streamRevisions, results, checkpoints: Object.entries(options.checkpoints ?? {}) };
}

/** Turns a plan into results once the planned rows have positions (in row order). */
export function resolveResults(plan: AppendPlan, rowPositions: readonly bigint[]): AppendResult[] {
  return plan.results.map((result) => ({
    streamId: result.streamId,
    nextExpectedRevision: result.nextExpectedRevision,
    duplicateEventIds: result.duplicateEventIds,
    positions: result.positions.map((source) => {
      switch (source.kind) {
        case 'stored':
          return source.position;
        case 'planned':
          return rowPositions[source.row];
        default: {
          const unhandled: never = source;
          throw new Error(`unknown position source ${JSON.stringify(unhandled)}`);
        }
      }
    }),
  }));
}

/**
 * The input of the one-round-trip append of new events (`event_store_append_fresh`, migration
 * 003): per stream its expectation, per row its stream (1-based), id, type and JSON text.
 */
export interface FreshAppend {
  readonly streamIds: readonly string[];
  /** Per stream: a revision >= 0, -1 no stream, -2 any, -3 stream exists (as decimal text). */
  readonly expected: readonly string[];
  readonly rowStreams: readonly number[];
  readonly eventIds: readonly string[];
  readonly types: readonly string[];
  readonly data: readonly string[];
  readonly metadata: readonly string[];
  /** Per stream, how many rows it has (every stream has at least one). */
  readonly eventCounts: readonly number[];
}

/** The code `event_store_append_fresh` takes for an expectation. */
export function expectationCode(expected: ExpectedRevision): string {
  if (typeof expected === 'bigint') return (expected < 0n ? -1n : expected).toString();
  switch (expected) {
    case 'any':
      return '-2';
    case 'no_stream':
      return '-1';
    case 'stream_exists':
      return '-3';
    default: {
      const unhandled: never = expected;
      throw new Error(`unknown expectation ${String(unhandled)}`);
    }
  }
}

/** JSON text, or undefined when the value is not JSON (the full path reports that). */
function jsonTextOrUndefined(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/**
 * Validated appends as one fresh append, assuming none of their events is stored yet; the
 * database checks that assumption and the expectations. Undefined when the input alone needs
 * the full path: an append without events, a stream named twice, an event id given twice,
 * or a payload that is not JSON.
 */
export function planFreshAppend(appends: readonly StreamAppend[]): FreshAppend | undefined {
  const streamIds: string[] = [];
  const expected: string[] = [];
  const eventCounts: number[] = [];
  const rowStreams: number[] = [];
  const eventIds: string[] = [];
  const types: string[] = [];
  const data: string[] = [];
  const metadata: string[] = [];
  const seenStreams = new Set<string>();
  const seenIds = new Set<string>();
  for (const append of appends) {
    if (append.events.length === 0 || seenStreams.has(append.streamId)) return undefined;
    seenStreams.add(append.streamId);
    streamIds.push(append.streamId);
    expected.push(expectationCode(append.expectedRevision ?? 'any'));
    eventCounts.push(append.events.length);
    const streamNumber = streamIds.length;
    for (const event of append.events) {
      const key = eventIdKey(event.eventId);
      if (seenIds.has(key)) return undefined;
      seenIds.add(key);
      const dataText = jsonTextOrUndefined(event.data ?? null);
      const metadataText = jsonTextOrUndefined(event.metadata ?? {});
      if (dataText === undefined || metadataText === undefined) return undefined;
      rowStreams.push(streamNumber);
      eventIds.push(event.eventId);
      types.push(event.type);
      data.push(dataText);
      metadata.push(metadataText);
    }
  }
  return { streamIds, expected, rowStreams, eventIds, types, data, metadata, eventCounts };
}
