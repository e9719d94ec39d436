import type { ClientBase, Pool } from 'pg';
import {
  ConcurrencyError,
  PreparedStatement,
  ValidationError,
  copyIn,
  copyJson,
  copyText,
  createPool,
  ensureDatabase,
  migrate,
  migrateAsOwner,
  migrationsDirectory,
  readMigrations,
  type MigrateOptions,
  withTransaction,
} from '@throughline/platform';
import {
  describeActualRevision,
  describeExpectedRevision,
  eventIdKey,
  expectationHolds,
  planAppends,
  planFreshAppend,
  serialiseEvents,
  resolveResults,
  validateAppends,
  validateCategory,
  validateEventType,
  validateExpectedRevision,
  validateStreamId,
  validateStreamMetadata,
  type AppendPlan,
  type FreshAppend,
  type PlannedRow,
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
import { PostgresSubscription } from './postgres-subscription';
import { DEFAULT_SHARED_READ_EVENTS, SharedReadWindow, type SharedReadStats } from './shared-read-window';

export interface PostgresEventStoreOptions {
  /** The database is created if missing and migrated on start. */
  readonly connectionString: string;
  /**
   * The owner role's connection (DATABASE_OWNER_URL): when given (and not connectionString), the
   * migrations run on it and grant connectionString's role what grants.sql says; the store then
   * works as that role. Default: connectionString does both (docs/decisions/011-database-roles.md).
   */
  readonly ownerConnectionString?: string;
  /** A pool of your own; the store then leaves it open on close(). */
  readonly pool?: Pool;
  /** LISTEN/NOTIFY channel that wakes subscriptions at commit. Default `throughline_events`. */
  readonly notifyChannel?: string;
  /** Milliseconds a caught-up subscription waits for a NOTIFY before reading anyway. Default 1000. */
  readonly idlePollMs?: number;
  /**
   * Events the store's unfiltered subscriptions share once one of them has read them (the
   * shared read window, decision 025). Default DEFAULT_SHARED_READ_EVENTS; 0 switches it off.
   */
  readonly sharedReadEvents?: number;
}

export const DEFAULT_NOTIFY_CHANNEL = 'throughline_events';
const DEFAULT_IDLE_POLL_MS = 1000;
const DEFAULT_MAX_COUNT = 1000;

/**
 * Every append transaction takes this transaction-scoped advisory lock before it allocates
 * positions, and holds it until commit. Appends therefore allocate and commit in one serial
 * order, so a position can only become visible after every lower committed position is
 * visible: a reader that has seen position p never later finds a new event below p. Without
 * it, a slow transaction holding position 5 could commit after position 6 was read past.
 * (The lock is released after the commit is visible, so the next appender cannot overtake.)
 */
export const APPEND_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('throughline.event-store.append'))`;

/** The folder holding this context's migrations, from source (jest) and from dist/ alike. */
export function eventStoreMigrationsDirectory(): string {
  return migrationsDirectory('event-store');
}

/** Applies the event store's migrations (as the owner) and, given the apps' role, its grants.sql. */
export async function migrateEventStore(pool: Pool, options: MigrateOptions = {}): Promise<number[]> {
  return migrate(pool, 'event-store', readMigrations(eventStoreMigrationsDirectory()), options);
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

function validateChannel(channel: string): string {
  if (!CHANNEL.test(channel)) {
    throw new ValidationError('invalid notify channel', [
      {
        path: 'notifyChannel',
        rule: 'identifier',
        message: 'must match [a-z_][a-z0-9_]* (at most 63 characters)',
      },
    ]);
  }
  return channel;
}

function validateMaxCount(maxCount: number | undefined): number {
  const value = maxCount ?? DEFAULT_MAX_COUNT;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError('invalid read', [
      { path: 'maxCount', rule: 'positive_integer', message: 'must be a positive integer' },
    ]);
  }
  return value;
}

function validateAfter(after: bigint | undefined): bigint {
  const value = after ?? 0n;
  if (typeof value !== 'bigint' || value < 0n) {
    throw new ValidationError('invalid read', [
      { path: 'after', rule: 'position', message: 'must be a bigint >= 0' },
    ]);
  }
  return value;
}

interface EventRow {
  position: string;
  stream_id: string;
  revision: string;
  event_id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  recorded_at: Date;
}

/** A row of event_store_lock_and_lookup: a stored event, a stream, or the drawn positions. */
interface LookupRow {
  kind: 'event' | 'stream' | 'positions';
  stream_id: string;
  event_id: string | null;
  position: string | null;
  revision: string | null;
  type: string | null;
  data: unknown;
  metadata: unknown;
  tombstoned: boolean;
}

const EVENT_COLUMNS = 'position, stream_id, revision, event_id, type, data, metadata, recorded_at';
const E_COLUMNS = EVENT_COLUMNS.split(', ')
  .map((column) => `e.${column}`)
  .join(', ');

/**
 * The stream-metadata rules as a predicate over `e` (events), `m` (stream_metadata) and
 * `s` (streams), both left-joined: the lowest visible revision is the larger of
 * truncateBefore and (last revision - maxCount + 1); maxAge hides what was recorded earlier.
 */
const VISIBLE_SQL = `e.revision >= GREATEST(coalesce(m.truncate_before, 0), coalesce(s.revision - m.max_count + 1, 0))
  AND (m.max_age IS NULL OR e.recorded_at > now() - m.max_age * interval '1 second')`;

interface MetadataRow {
  max_age: string | null;
  max_count: string | null;
  truncate_before: string | null;
  custom: Record<string, unknown> | null;
}

function toStreamMetadata(row: MetadataRow | undefined): StreamMetadata {
  if (row === undefined) return {};
  return {
    ...(row.max_age === null ? {} : { maxAge: Number(row.max_age) }),
    ...(row.max_count === null ? {} : { maxCount: Number(row.max_count) }),
    ...(row.truncate_before === null ? {} : { truncateBefore: BigInt(row.truncate_before) }),
    ...(row.custom === null ? {} : { custom: row.custom }),
  };
}

/** Throws StreamTombstonedError if the stream is tombstoned. */
async function assertNotTombstoned(db: Pick<Pool, 'query'>, streamId: string): Promise<void> {
  const result = await db.query('SELECT 1 FROM stream_tombstones WHERE stream_id = $1', [streamId]);
  if (result.rows.length > 0) throw new StreamTombstonedError(streamId);
}

/** Runs `work` in a transaction holding the append lock (metadata changes serialise with appends). */
function underAppendLock<T>(pool: Pool, work: (client: ClientBase) => Promise<T>): Promise<T> {
  return withTransaction(pool, async (client) => {
    await client.query(APPEND_LOCK_SQL);
    return work(client);
  });
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    streamId: row.stream_id,
    revision: BigInt(row.revision),
    position: BigInt(row.position),
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}

/**
 * Every subscription's page (and the shared read window's): prepared, so parsed once per
 * connection. It is still planned on every run: a generic plan, costed for `position > $1`
 * matching a third of the table, never beats the custom one for the head (decision 028).
 */
const READ_EVENTS_AFTER = new PreparedStatement<EventRow>(
  'events-after',
  `SELECT ${EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2`,
);

/** Reads events with position > after, in position order. */
export async function readEventsAfter(
  db: Pick<Pool, 'query'>,
  after: bigint,
  maxCount: number,
): Promise<RecordedEvent[]> {
  const result = await READ_EVENTS_AFTER.run(db, [after.toString(), maxCount]);
  return result.rows.map(toRecordedEvent);
}

/** Full-path appends of at least this many new events write them with COPY, smaller ones with one INSERT. */
export const COPY_MIN_ROWS = 64;
/** Appends of at most this many events try the one-round-trip fresh append first (and may be grouped). */
export const FRESH_MAX_EVENTS = 200;
/** A group commit gathers queued fresh appends up to this many events. */
export const GROUP_MAX_EVENTS = 500;
/**
 * Groups a store writes at once. One: appends are serial under the lock anyway, and a second
 * group waiting on the lock in the database measured slower (more, smaller commits and a
 * lock hand-over between backends on each), not faster.
 */
const APPEND_GROUPS_IN_FLIGHT = 1;

/** Rows per chunk written to a COPY: the server parses one chunk while the next is built. */
const COPY_CHUNK_ROWS = 250;

function* copyChunks(rows: readonly PlannedRow[], positions: readonly bigint[]): Generator<string> {
  for (let offset = 0; offset < rows.length; offset += COPY_CHUNK_ROWS) {
    let text = '';
    for (let index = offset; index < Math.min(rows.length, offset + COPY_CHUNK_ROWS); index++) {
      const row = rows[index];
      text +=
        `${positions[index]}\t${copyText(row.streamId)}\t${row.revision}\t${row.eventId}\t` +
        `${copyText(row.type)}\t${copyJson(row.data)}\t${copyJson(row.metadata)}\n`;
    }
    yield text;
  }
}

/** The rows as one `COPY events ... FROM STDIN` (text format), with the positions drawn for them. */
async function copyRows(client: ClientBase, rows: readonly PlannedRow[], positions: readonly bigint[]) {
  await copyIn(
    client,
    'COPY events (position, stream_id, revision, event_id, type, data, metadata) FROM STDIN',
    copyChunks(rows, positions),
  );
}

async function insertRows(client: ClientBase, rows: readonly PlannedRow[], positions: readonly bigint[]) {
  await client.query(
    `INSERT INTO events (position, stream_id, revision, event_id, type, data, metadata)
     SELECT p, s, r, e, t, d::json, m::json
     FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::text[], $7::text[])
       AS input(p, s, r, e, t, d, m)`,
    [
      positions.map(String),
      rows.map((row) => row.streamId),
      rows.map((row) => row.revision.toString()),
      rows.map((row) => row.eventId),
      rows.map((row) => row.type),
      rows.map((row) => row.data),
      rows.map((row) => row.metadata),
    ],
  );
}

/** Moves the streams on, writes the checkpoints and notifies, in one statement. */
async function finishAppend(
  client: ClientBase,
  plan: AppendPlan,
  rowPositions: readonly bigint[],
  notifyChannel: string,
): Promise<void> {
  if (rowPositions.length === 0 && plan.checkpoints.length === 0) return;
  const last = rowPositions.reduce((max, position) => (position > max ? position : max), 0n);
  await client.query(
    `WITH moved AS (
       INSERT INTO streams (stream_id, revision)
       SELECT * FROM unnest($1::text[], $2::bigint[])
       ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision
     ), checkpointed AS (
       INSERT INTO checkpoints (name, value)
       SELECT * FROM unnest($3::text[], $4::text[])
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now()
     )
     SELECT pg_notify($5, $6::text) WHERE $6::text IS NOT NULL`,
    [
      [...plan.streamRevisions.keys()],
      [...plan.streamRevisions.values()].map(String),
      plan.checkpoints.map(([name]) => name),
      plan.checkpoints.map(([, value]) => value),
      notifyChannel,
      // Delivered at commit, never for a rolled-back append.
      rowPositions.length === 0 ? null : last.toString(),
    ],
  );
}

/**
 * The whole append inside a transaction the caller opened (and will commit or roll back).
 * The store wraps it in BEGIN/COMMIT; it is exported so tests can hold a transaction open
 * between this and the commit. The caller must not do anything else in the transaction that
 * takes long: the append lock is held until the commit.
 */
export async function appendInTransaction(
  client: ClientBase,
  appends: readonly StreamAppend[],
  options: AppendOptions,
  notifyChannel: string,
): Promise<AppendResult[]> {
  validateAppends(appends, options);
  const eventIds = appends.flatMap((append) => append.events.map((event) => event.eventId));
  const streamIds = [...new Set(appends.map((append) => append.streamId))];
  // One round trip: the lock, what is stored, the streams, and a position per event. The
  // events are serialised while the database works on it.
  const looking = client.query<LookupRow>(
    `SELECT kind, stream_id, event_id, event_position AS position, revision, type, data, metadata, tombstoned
     FROM event_store_lock_and_lookup($1::uuid[], $2::text[], $3::int)`,
    [eventIds, streamIds, eventIds.length],
  );
  const serialised = serialiseEvents(appends);
  const looked = await looking;

  const stored = new Map<string, StoredEventRef>();
  const revisions = new Map<string, bigint>();
  const tombstones = new Set<string>();
  const drawn: bigint[] = [];
  for (const row of looked.rows) {
    if (row.kind === 'positions') {
      const text = (row.type as string).slice(1, -1); // '{7,8,9}'
      if (text.length > 0) drawn.push(...text.split(',').map(BigInt));
    } else if (row.kind === 'event') {
      stored.set(row.event_id as string, {
        streamId: row.stream_id,
        position: BigInt(row.position as string),
        type: row.type as string,
        data: row.data,
        metadata: row.metadata,
      });
    } else {
      if (row.tombstoned) tombstones.add(row.stream_id);
      if (row.revision !== null) revisions.set(row.stream_id, BigInt(row.revision));
    }
  }
  const tombstoned = streamIds.find((streamId) => tombstones.has(streamId));
  if (tombstoned !== undefined) throw new StreamTombstonedError(tombstoned);

  const plan = planAppends(appends, options, stored, revisions, serialised);

  let rowPositions: bigint[] = [];
  if (plan.rows.length > 0) {
    // Drawn in ascending order; new rows take the first ones, in input order.
    if (drawn.length < plan.rows.length)
      throw new Error(`drew ${drawn.length} positions for ${plan.rows.length} rows`);
    rowPositions = drawn.slice(0, plan.rows.length);
    if (plan.rows.length >= COPY_MIN_ROWS) await copyRows(client, plan.rows, rowPositions);
    else await insertRows(client, plan.rows, rowPositions);
  }
  await finishAppend(client, plan, rowPositions, notifyChannel);
  return resolveResults(plan, rowPositions);
}

/** Thrown inside a bulk append that wrote nothing: the call takes the full path instead. */
class TakeFullPath extends Error {}

/** A payload JSON.stringify refuses (the full path then reports it as a ValidationError). */
class UnserialisablePayload extends Error {}

const UNIQUE_VIOLATION = '23505';

/** The row of event_store_lock_streams (migration 005). */
interface LockedStreams {
  revisions: string[];
  tombstoned: boolean;
  last_position: string;
}

/**
 * The bulk append's rows as COPY text, `COPY_CHUNK_ROWS` a chunk: each event is serialised as
 * its row is built, so the server parses one chunk while the next is serialised. Revisions
 * follow `before[a]`, the stream's last revision before append `a`.
 */
function* bulkChunks(appends: readonly StreamAppend[], before: readonly number[]): Generator<string> {
  let text = '';
  let rows = 0;
  for (let a = 0; a < appends.length; a++) {
    const append = appends[a];
    const stream = copyText(append.streamId);
    let revision = before[a];
    for (const event of append.events) {
      revision += 1;
      let data: string | undefined;
      let metadata: string | undefined;
      try {
        data = JSON.stringify(event.data ?? null);
        metadata = JSON.stringify(event.metadata ?? {});
      } catch {
        throw new UnserialisablePayload();
      }
      if (data === undefined || metadata === undefined) throw new UnserialisablePayload();
      text += `${stream}\t${revision}\t${event.eventId}\t${copyText(event.type)}\t${copyJson(data)}\t${copyJson(metadata)}\n`;
      if (++rows === COPY_CHUNK_ROWS) {
        yield text;
        text = '';
        rows = 0;
      }
    }
  }
  if (text.length > 0) yield text;
}

/**
 * The bulk append (calls of more than FRESH_MAX_EVENTS events), in a transaction the caller
 * opened (exported, as appendInTransaction, for the tests that hold one open): the lock and the
 * streams' revisions in one round trip (`event_store_lock_streams`, migration 005), the rows in
 * one COPY serialised as it streams, positions drawn by the column's DEFAULT in input order
 * under the lock, then the streams, checkpoints and NOTIFY in one statement. It does not look
 * the event ids up: the unique index refuses one already stored or named twice in the call.
 * Throws TakeFullPath, having written nothing the caller will commit, whenever the full path
 * must decide: a stored or repeated id (re-append, conflict or another stream's), a tombstoned
 * stream, a failed expectation (it may be a pure re-append), a payload that is not JSON.
 */
export async function appendBulkInTransaction(
  client: ClientBase,
  appends: readonly StreamAppend[],
  options: AppendOptions,
  notifyChannel: string,
): Promise<AppendResult[]> {
  const streamIds = [...new Set(appends.map((append) => append.streamId))];
  const locked = (
    await client.query<LockedStreams>(
      `SELECT revisions::text[] AS revisions, tombstoned, last_position::text AS last_position
       FROM event_store_lock_streams($1::text[])`,
      [streamIds],
    )
  ).rows[0];
  if (locked.tombstoned) throw new TakeFullPath();
  const current = new Map<string, number>();
  streamIds.forEach((streamId, index) => current.set(streamId, Number(locked.revisions[index])));

  const before: number[] = [];
  const lastRevisions = new Map<string, number>();
  let rows = 0;
  for (const append of appends) {
    const revision = current.get(append.streamId) as number;
    if (!expectationHolds(append.expectedRevision ?? 'any', BigInt(revision))) throw new TakeFullPath();
    const after = revision + append.events.length;
    if (!Number.isSafeInteger(after)) throw new TakeFullPath();
    before.push(revision);
    current.set(append.streamId, after);
    if (append.events.length > 0) lastRevisions.set(append.streamId, after);
    rows += append.events.length;
  }

  try {
    // The client is marked broken on a failure (it may be mid-protocol).
    await copyIn(
      client,
      'COPY events (stream_id, revision, event_id, type, data, metadata) FROM STDIN',
      bulkChunks(appends, before),
    );
  } catch (error) {
    if (error instanceof UnserialisablePayload || (error as { code?: string }).code === UNIQUE_VIOLATION) {
      throw new TakeFullPath();
    }
    throw error;
  }

  const checkpoints = Object.entries(options.checkpoints ?? {});
  const finished = await client.query<{ last: string }>(
    `WITH moved AS (
       INSERT INTO streams (stream_id, revision)
       SELECT * FROM unnest($1::text[], $2::bigint[])
       ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision
     ), checkpointed AS (
       INSERT INTO checkpoints (name, value)
       SELECT * FROM unnest($3::text[], $4::text[])
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now()
     )
     SELECT drawn.last::text AS last, pg_notify($5, drawn.last::text)
     FROM (SELECT currval('events_position_seq') AS last) AS drawn`,
    [
      [...lastRevisions.keys()],
      [...lastRevisions.values()].map(String),
      checkpoints.map(([name]) => name),
      checkpoints.map(([, value]) => value),
      notifyChannel,
    ],
  );

  // Drawn under the lock, in input order: last_position + 1 ... currval, unless something drew
  // from the sequence without the lock meanwhile; then the rows say which positions they got.
  const first = BigInt(locked.last_position) + 1n;
  const last = BigInt(finished.rows[0].last);
  let positionOf = (row: number): bigint => first + BigInt(row);
  if (last - first + 1n !== BigInt(rows)) {
    const eventIds = appends.flatMap((append) => append.events.map((event) => event.eventId));
    const stored = await client.query<{ event_id: string; position: string }>(
      'SELECT event_id::text AS event_id, position::text AS position FROM events WHERE event_id = ANY ($1::uuid[])',
      [eventIds],
    );
    const positions = new Map(stored.rows.map((row) => [row.event_id, BigInt(row.position)]));
    positionOf = (row) => positions.get(eventIdKey(eventIds[row])) as bigint;
  }

  let row = 0;
  return appends.map((append, a) => ({
    streamId: append.streamId,
    nextExpectedRevision: BigInt(before[a] + append.events.length),
    positions: append.events.map(() => positionOf(row++)),
    duplicateEventIds: [],
  }));
}

/** An appendMany call waiting for its turn (see PostgresEventStore.appendMany). */
interface QueuedAppend {
  readonly appends: readonly StreamAppend[];
  readonly options: AppendOptions;
  /** Set when the call may take the one-round-trip fresh path (and join a group). */
  readonly fresh: FreshAppend | undefined;
  /**
   * Its events. More than FRESH_MAX_EVENTS: the call tries the bulk path, where an id it names
   * twice is refused by the unique index, as a stored one is, and the call takes the full path.
   */
  readonly events: number;
  /**
   * A fresh call's streams, event ids and checkpoint names: a group never holds two calls that
   * share one. Undefined for a call on the full or bulk path, which runs alone, after every
   * call before it and before every call after it (so it needs no keys: a batch of 20,000
   * events spent more time building and hashing 20,000 keys than taking the lock).
   */
  readonly keys: readonly string[] | undefined;
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
}

function keysOf(appends: readonly StreamAppend[], options: AppendOptions): string[] {
  return [
    ...appends.map((append) => `s:${append.streamId}`),
    ...appends.flatMap((append) => append.events.map((event) => `e:${eventIdKey(event.eventId)}`)),
    ...Object.keys(options.checkpoints ?? {}).map((name) => `c:${name}`),
  ];
}

interface FreshRow {
  positions: string[] | null;
  last_revisions: string[] | null;
}

/**
 * `event_store_append_fresh` (migration 003) in its own implicit transaction: one round trip,
 * the append lock held from inside the call until its commit. Undefined when it wrote
 * nothing because an id is already stored, a stream is tombstoned or an expectation failed.
 */
/** The recorder's one statement a batch: prepared, parsed once per connection. */
const APPEND_FRESH = new PreparedStatement<FreshRow>(
  'append-fresh',
  `SELECT positions::text[] AS positions, last_revisions::text[] AS last_revisions
   FROM event_store_append_fresh($1::text[], $2::bigint[], $3::int[], $4::uuid[], $5::text[], $6::text[],
                                 $7::text[], $8::text[], $9::text[], $10::text)`,
);

async function appendFresh(
  db: Pick<Pool, 'query'>,
  fresh: FreshAppend,
  checkpoints: readonly (readonly [string, string])[],
  notifyChannel: string,
): Promise<{ positions: bigint[]; lastRevisions: bigint[] } | undefined> {
  const result = await APPEND_FRESH.run(db, [
    fresh.streamIds,
    fresh.expected,
    fresh.rowStreams,
    fresh.eventIds,
    fresh.types,
    fresh.data,
    fresh.metadata,
    checkpoints.map(([name]) => name),
    checkpoints.map(([, value]) => value),
    notifyChannel,
  ]);
  const row = result.rows[0];
  if (row.positions === null || row.last_revisions === null) return undefined;
  return { positions: row.positions.map(BigInt), lastRevisions: row.last_revisions.map(BigInt) };
}

/** The recorder reads its checkpoint before each batch. */
const READ_CHECKPOINT = new PreparedStatement<{ value: string }>(
  'read-checkpoint',
  'SELECT value FROM checkpoints WHERE name = $1',
);

export class PostgresEventStore implements EventStore {
  private readonly subscriptions = new Set<PostgresSubscription>();
  /** appendMany calls not yet started, in call order. */
  private queue: QueuedAppend[] = [];
  /** Groups being written, each with the keys it holds (undefined: a call running alone). */
  private readonly running = new Map<Promise<void>, ReadonlySet<string> | undefined>();

  private constructor(
    private readonly pool: Pool,
    private readonly ownsPool: boolean,
    private readonly connectionString: string,
    private readonly notifyChannel: string,
    private readonly idlePollMs: number,
    sharedReadEvents: number,
  ) {
    this.window = new SharedReadWindow(sharedReadEvents, (after, maxCount) =>
      readEventsAfter(this.pool, after, maxCount),
    );
  }

  /** Pages of $all one subscription read, handed to the others (decision 025). */
  private readonly window: SharedReadWindow;

  static async create(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    const notifyChannel = validateChannel(options.notifyChannel ?? DEFAULT_NOTIFY_CHANNEL);
    const idlePollMs = options.idlePollMs ?? DEFAULT_IDLE_POLL_MS;
    if (!Number.isSafeInteger(idlePollMs) || idlePollMs < 1) {
      throw new ValidationError('invalid event store options', [
        {
          path: 'idlePollMs',
          rule: 'positive_integer',
          message: 'must be a positive integer (milliseconds)',
        },
      ]);
    }
    const sharedReadEvents = options.sharedReadEvents ?? DEFAULT_SHARED_READ_EVENTS;
    if (!Number.isSafeInteger(sharedReadEvents) || sharedReadEvents < 0) {
      throw new ValidationError('invalid event store options', [
        {
          path: 'sharedReadEvents',
          rule: 'non_negative_integer',
          message: 'must be a whole number of events, 0 or more',
        },
      ]);
    }
    await ensureDatabase(options.ownerConnectionString ?? options.connectionString);
    const pool = options.pool ?? createPool(options.connectionString);
    try {
      const { connectionString, ownerConnectionString } = options;
      if (ownerConnectionString && ownerConnectionString !== connectionString)
        await migrateAsOwner({ app: connectionString, owner: ownerConnectionString }, migrateEventStore);
      else await migrateEventStore(pool);
    } catch (error) {
      if (!options.pool) await pool.end();
      throw error;
    }
    return new PostgresEventStore(
      pool,
      !options.pool,
      options.connectionString,
      notifyChannel,
      idlePollMs,
      sharedReadEvents,
    );
  }

  async append(
    streamId: string,
    events: readonly EventToAppend[],
    expectedRevision: ExpectedRevision = 'any',
  ): Promise<AppendResult> {
    const [result] = await this.appendMany([{ streamId, events, expectedRevision }]);
    return result;
  }

  /**
   * Calls are queued and run one transaction at a time per store (appends are serial
   * store-wide anyway, under the append lock). Small appends of new events take one round
   * trip (`event_store_append_fresh`); those queued meanwhile on disjoint streams, ids and
   * checkpoints are committed together in one such call (group commit), each still getting
   * its own result or error. Anything else — re-appends, failed expectations, tombstones, big
   * batches — takes the full path: lookup, plan, COPY or INSERT, in one transaction.
   */
  async appendMany(appends: readonly StreamAppend[], options: AppendOptions = {}): Promise<AppendResult[]> {
    validateAppends(appends, options); // fail fast, before taking a connection
    const events = appends.reduce((sum, append) => sum + append.events.length, 0);
    const fresh = events > 0 && events <= FRESH_MAX_EVENTS ? planFreshAppend(appends) : undefined;
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.queue.push({
        appends,
        options,
        fresh,
        events,
        keys: fresh === undefined ? undefined : keysOf(appends, options),
        resolve,
        reject,
      });
      this.pump();
    });
  }

  /**
   * Starts groups while fewer than APPEND_GROUPS_IN_FLIGHT run. Groups in flight never share
   * a key (stream, event id, checkpoint), so their order on the lock would not matter.
   */
  private pump(): void {
    while (this.running.size < APPEND_GROUPS_IN_FLIGHT) {
      const group = this.takeGroup();
      if (group === undefined) return;
      const keys =
        group[0].keys === undefined ? undefined : new Set(group.flatMap((queued) => queued.keys ?? []));
      const run: Promise<void> = this.runGroup(group)
        // runGroup settles every call; this only guards against a bug leaving one unsettled.
        .catch((error: unknown) => group.forEach((queued) => queued.reject(error)))
        .finally(() => {
          this.running.delete(run);
          this.pump();
        });
      this.running.set(run, keys);
    }
  }

  /**
   * The first queued fresh call that shares no key with a running group or an earlier waiting
   * call, with the later fresh calls that share nothing with it (up to GROUP_MAX_EVENTS
   * events); or, when nothing runs and nothing waits before it, a call on the full or bulk
   * path, alone. A call left waiting holds its keys against later calls (one that must run
   * alone holds back every later call), so calls on the same stream, event id or checkpoint
   * run in call order.
   */
  private takeGroup(): QueuedAppend[] | undefined {
    const blocked = new Set<string>();
    for (const keys of this.running.values()) {
      if (keys === undefined) return undefined; // a call running alone
      for (const key of keys) blocked.add(key);
    }
    const group: QueuedAppend[] = [];
    const taken = new Set<string>();
    const rest: QueuedAppend[] = [];
    let events = 0;
    let closed = false; // the group takes no more calls
    for (const queued of this.queue) {
      if (queued.keys === undefined) {
        if (!closed && group.length === 0 && rest.length === 0 && this.running.size === 0) group.push(queued);
        else rest.push(queued);
        closed = true; // alone, or holding back every call after it
        continue;
      }
      const joins =
        !closed &&
        (group.length === 0 || events + queued.events <= GROUP_MAX_EVENTS) &&
        !queued.keys.some((key) => taken.has(key) || blocked.has(key));
      if (joins) {
        group.push(queued);
        events += queued.events;
        for (const key of queued.keys) taken.add(key);
      } else {
        rest.push(queued);
        for (const key of queued.keys) blocked.add(key);
      }
    }
    this.queue = rest;
    return group.length === 0 ? undefined : group;
  }

  /** Settles every call of the group; never throws. */
  private async runGroup(group: readonly QueuedAppend[]): Promise<void> {
    const fresh =
      group.length === 1 ? group[0].fresh : planFreshAppend(group.flatMap((queued) => queued.appends));
    if (fresh !== undefined) {
      const checkpoints = group.flatMap((queued) => Object.entries(queued.options.checkpoints ?? {}));
      let written: Awaited<ReturnType<typeof appendFresh>>;
      try {
        written = await appendFresh(this.pool, fresh, checkpoints, this.notifyChannel);
      } catch (error) {
        // Nothing was written (one statement). Alone, the error is the call's; in a group,
        // each call runs on its own so that one call's failure is not its neighbours'.
        if (group.length === 1) {
          group[0].reject(error);
          return;
        }
        written = undefined;
      }
      if (written !== undefined) {
        this.settleFresh(group, written.positions, written.lastRevisions);
        return;
      }
    }
    for (const queued of group) {
      try {
        queued.resolve(
          queued.events > FRESH_MAX_EVENTS
            ? await this.appendBulk(queued.appends, queued.options)
            : await this.appendFull(queued.appends, queued.options),
        );
      } catch (error) {
        queued.reject(error);
      }
    }
  }

  /** Hands each call of a committed group its streams' positions and revisions, in input order. */
  private settleFresh(group: readonly QueuedAppend[], positions: bigint[], lastRevisions: bigint[]): void {
    let stream = 0;
    let row = 0;
    for (const queued of group) {
      queued.resolve(
        queued.appends.map((append) => {
          const result: AppendResult = {
            streamId: append.streamId,
            nextExpectedRevision: lastRevisions[stream],
            positions: positions.slice(row, row + append.events.length),
            duplicateEventIds: [],
          };
          stream += 1;
          row += append.events.length;
          return result;
        }),
      );
    }
  }

  /** The bulk path in a transaction of its own; the full path if it must decide (nothing written). */
  private async appendBulk(
    appends: readonly StreamAppend[],
    options: AppendOptions,
  ): Promise<AppendResult[]> {
    try {
      return await withTransaction(this.pool, (client) =>
        appendBulkInTransaction(client, appends, options, this.notifyChannel),
      );
    } catch (error) {
      if (error instanceof TakeFullPath) return this.appendFull(appends, options);
      throw error;
    }
  }

  /** The full path in a transaction of its own. */
  private appendFull(appends: readonly StreamAppend[], options: AppendOptions): Promise<AppendResult[]> {
    return withTransaction(this.pool, (client) =>
      appendInTransaction(client, appends, options, this.notifyChannel),
    );
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const maxCount = validateMaxCount(options.maxCount);
    const backwards = options.direction === 'backwards';
    const from = options.fromRevision;
    const bound = from === undefined ? '' : backwards ? 'AND e.revision <= $3' : 'AND e.revision >= $3';
    const order = backwards ? 'DESC' : 'ASC';
    // One round trip: the stream's state (tombstone, lowest visible revision, max age), then
    // a page of the stream through the (stream_id, revision) index from that revision on.
    const result = await this.pool.query<EventRow & { tombstoned: boolean }>(
      `WITH state AS (
         SELECT EXISTS (SELECT 1 FROM stream_tombstones WHERE stream_id = $1) AS tombstoned,
                GREATEST(coalesce(m.truncate_before, 0), coalesce(s.revision - m.max_count + 1, 0)) AS lowest,
                m.max_age
         FROM (SELECT 1) AS one
         LEFT JOIN stream_metadata m ON m.stream_id = $1
         LEFT JOIN streams s ON s.stream_id = $1
       ), page AS (
         SELECT ${E_COLUMNS} FROM events e, state
         WHERE e.stream_id = $1 AND e.revision >= state.lowest ${bound}
           AND (state.max_age IS NULL OR e.recorded_at > now() - state.max_age * interval '1 second')
         ORDER BY e.revision ${order} LIMIT $2
       )
       SELECT state.tombstoned, page.* FROM state LEFT JOIN page ON true ORDER BY page.revision ${order}`,
      from === undefined ? [streamId, maxCount] : [streamId, maxCount, from.toString()],
    );
    if (result.rows[0]?.tombstoned) throw new StreamTombstonedError(streamId);
    return result.rows.filter((row) => row.position !== null).map(toRecordedEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return readEventsAfter(this.pool, options.after ?? 0n, validateMaxCount(options.maxCount));
  }

  /** Uses the index events_category_position ((split_part(stream_id, '-', 1)), position). */
  async readCategory(category: string, options: ReadFilteredOptions = {}): Promise<RecordedEvent[]> {
    validateCategory(category);
    return this.readFiltered(
      "split_part(e.stream_id, '-', 1) = $1 AND strpos(e.stream_id, '-') > 0",
      category,
      options,
    );
  }

  /** Uses the index events_type_position (type, position). */
  async readByType(type: string, options: ReadFilteredOptions = {}): Promise<RecordedEvent[]> {
    validateEventType(type);
    return this.readFiltered('e.type = $1', type, options);
  }

  private async readFiltered(
    filter: string,
    value: string,
    options: ReadFilteredOptions,
  ): Promise<RecordedEvent[]> {
    const maxCount = validateMaxCount(options.maxCount);
    const after = validateAfter(options.after);
    const result = await this.pool.query<EventRow>(
      `SELECT ${E_COLUMNS} FROM events e
       LEFT JOIN stream_metadata m ON m.stream_id = e.stream_id
       LEFT JOIN streams s ON s.stream_id = e.stream_id
       WHERE ${filter} AND e.position > $2
         AND NOT EXISTS (SELECT 1 FROM stream_tombstones t WHERE t.stream_id = e.stream_id)
         AND ${VISIBLE_SQL}
       ORDER BY e.position LIMIT $3`,
      [value, after.toString(), maxCount],
    );
    return result.rows.map(toRecordedEvent);
  }

  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    validateStreamId(streamId);
    validateStreamMetadata(metadata);
    await underAppendLock(this.pool, async (client) => {
      await assertNotTombstoned(client, streamId);
      await client.query(
        `INSERT INTO stream_metadata (stream_id, max_age, max_count, truncate_before, custom)
         VALUES ($1, $2, $3, $4, $5::jsonb)
         ON CONFLICT (stream_id) DO UPDATE SET max_age = excluded.max_age, max_count = excluded.max_count,
           truncate_before = excluded.truncate_before, custom = excluded.custom, updated_at = now()`,
        [
          streamId,
          metadata.maxAge ?? null,
          metadata.maxCount ?? null,
          metadata.truncateBefore?.toString() ?? null,
          metadata.custom === undefined ? null : JSON.stringify(metadata.custom),
        ],
      );
    });
  }

  async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
    validateStreamId(streamId);
    const result = await this.pool.query<MetadataRow & { tombstoned: boolean; found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM stream_tombstones WHERE stream_id = $1) AS tombstoned,
              m.max_age, m.max_count, m.truncate_before, m.custom, m.stream_id IS NOT NULL AS found
       FROM (SELECT 1) AS one LEFT JOIN stream_metadata m ON m.stream_id = $1`,
      [streamId],
    );
    const [row] = result.rows; // always one row
    if (row.tombstoned) throw new StreamTombstonedError(streamId);
    return toStreamMetadata(row.found ? row : undefined);
  }

  async deleteStream(streamId: string, expectedRevision: ExpectedRevision = 'any'): Promise<void> {
    validateStreamId(streamId);
    validateExpectedRevision(expectedRevision);
    await underAppendLock(this.pool, async (client) => {
      await assertNotTombstoned(client, streamId);
      const current = await this.lastRevision(client, streamId, expectedRevision);
      if (current < 0n) return; // nothing to hide
      await client.query(
        `INSERT INTO stream_metadata (stream_id, truncate_before) VALUES ($1, $2)
         ON CONFLICT (stream_id) DO UPDATE SET truncate_before = excluded.truncate_before, updated_at = now()`,
        [streamId, (current + 1n).toString()],
      );
    });
  }

  async tombstoneStream(streamId: string, expectedRevision: ExpectedRevision = 'any'): Promise<void> {
    validateStreamId(streamId);
    validateExpectedRevision(expectedRevision);
    await underAppendLock(this.pool, async (client) => {
      await assertNotTombstoned(client, streamId);
      await this.lastRevision(client, streamId, expectedRevision);
      await client.query('INSERT INTO stream_tombstones (stream_id) VALUES ($1)', [streamId]);
    });
  }

  /** The stream's last revision (-1n when it has none), after checking the expectation. */
  private async lastRevision(
    client: ClientBase,
    streamId: string,
    expectedRevision: ExpectedRevision,
  ): Promise<bigint> {
    const result = await client.query<{ revision: string }>(
      'SELECT revision FROM streams WHERE stream_id = $1',
      [streamId],
    );
    const current = result.rows[0] === undefined ? -1n : BigInt(result.rows[0].revision);
    if (!expectationHolds(expectedRevision, current)) {
      throw new ConcurrencyError(
        streamId,
        describeExpectedRevision(expectedRevision),
        describeActualRevision(current),
      );
    }
    return current;
  }

  subscribeToAll(handler: SubscriptionHandler, options: SubscribeOptions = {}): Subscription {
    const reader = this.window.openReader();
    const subscription = new PostgresSubscription({
      handler,
      after: options.after ?? 0n,
      batchSize: validateMaxCount(options.batchSize ?? 500),
      readAfter: (after, maxCount) => reader.readPage(after, maxCount),
      filter: options.filter,
      db: this.pool,
      connectionString: this.connectionString,
      notifyChannel: this.notifyChannel,
      idlePollMs: this.idlePollMs,
      readAhead: options.readAhead,
      onEnded: () => {
        reader.close();
        this.subscriptions.delete(subscription);
      },
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** How many events its subscriptions were handed from the shared read window and read (decision 025). */
  sharedReadStats(): SharedReadStats {
    return this.window.stats();
  }

  async readCheckpoint(name: string): Promise<string | undefined> {
    const result = await READ_CHECKPOINT.run(this.pool, [name]);
    return result.rows[0]?.value;
  }

  async headPosition(): Promise<bigint> {
    const result = await this.pool.query<{ head: string }>(
      'SELECT coalesce(max(position), 0) AS head FROM events',
    );
    return BigInt(result.rows[0].head);
  }

  /** Stops this store's subscriptions, then ends the pool if the store created it. */
  async close(): Promise<void> {
    // Appends already called finish first.
    while (this.running.size > 0) await Promise.all(this.running.keys());
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    if (this.ownsPool) await this.pool.end();
  }
}
