import { ConcurrencyError, ThroughlineError, ValidationError, type FieldIssue } from '@throughline/platform';
import type { AppendOptions, AppendResult, ExpectedRevision, StreamAppend } from './port';

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
  for (const [name, value] of Object.entries(options.checkpoints ?? {})) {
    if (name.length === 0 || typeof value !== 'string') {
      issues.push({ path: `checkpoints.${name}`, rule: 'string', message: 'name and value must be strings' });
    }
  }
  if (issues.length > 0) throw new ValidationError('invalid append', issues);
}

/**
 * Decides the whole append, all streams together, in input order (a stream may appear
 * more than once). Throws ConcurrencyError on a failed expectation and ILLEGAL_STATE when
 * an event id is already used in another stream; nothing is written in either case.
 *
 * A pure re-append (every event id already stored in that stream) succeeds whatever its
 * expectation and returns the original positions: it is the retry of an append that
 * committed, and the expectation held when it did.
 */
export function planAppends(
  appends: readonly StreamAppend[],
  options: AppendOptions,
  stored: ReadonlyMap<string, StoredEventRef>,
  currentRevisions: ReadonlyMap<string, bigint>,
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
      if (earlierStreamId === undefined) {
        // Rows are planned before the expectation check; a failed check discards the plan.
        fresh += 1;
        revision += 1n;
        const row = rows.length;
        rows.push({
          streamId,
          revision,
          eventId: event.eventId,
          type: event.type,
          data: toJsonText(event.data ?? null, `appends.${a}.events.${e}.data`, issues),
          metadata: toJsonText(event.metadata ?? {}, `appends.${a}.events.${e}.metadata`, issues),
        });
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
