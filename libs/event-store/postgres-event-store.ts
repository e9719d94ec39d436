import type { ClientBase, Pool } from 'pg';
import {
  ConcurrencyError,
  ValidationError,
  createPool,
  ensureDatabase,
  migrate,
  migrationsDirectory,
  readMigrations,
} from '@throughline/platform';
import {
  describeActualRevision,
  describeExpectedRevision,
  expectationHolds,
  planAppends,
  resolveResults,
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
import { PostgresSubscription } from './postgres-subscription';

export interface PostgresEventStoreOptions {
  /** The database is created if missing and migrated on start. */
  readonly connectionString: string;
  /** A pool of your own; the store then leaves it open on close(). */
  readonly pool?: Pool;
  /** LISTEN/NOTIFY channel that wakes subscriptions at commit. Default `throughline_events`. */
  readonly notifyChannel?: string;
  /** Milliseconds a caught-up subscription waits for a NOTIFY before reading anyway. Default 1000. */
  readonly idlePollMs?: number;
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
async function underAppendLock<T>(pool: Pool, work: (client: ClientBase) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(APPEND_LOCK_SQL);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
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

/** Reads events with position > after, in position order. */
export async function readEventsAfter(
  db: Pick<Pool, 'query'>,
  after: bigint,
  maxCount: number,
): Promise<RecordedEvent[]> {
  const result = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2`,
    [after.toString(), maxCount],
  );
  return result.rows.map(toRecordedEvent);
}

// One statement for the whole batch. Positions are drawn from the sequence and then sorted,
// so they follow input order (and so stream revisions) whatever order nextval ran in.
const INSERT_EVENTS_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::text[])
    WITH ORDINALITY AS t(stream_id, revision, event_id, type, data, metadata, ord)
), allocated AS (
  SELECT row_number() OVER (ORDER BY position) AS ord, position
  FROM (SELECT nextval('events_position_seq') AS position FROM generate_series(1, cardinality($1::text[]))) AS drawn
)
INSERT INTO events (position, stream_id, revision, event_id, type, data, metadata)
SELECT allocated.position, input.stream_id, input.revision, input.event_id, input.type,
       input.data::jsonb, input.metadata::jsonb
FROM input JOIN allocated ON allocated.ord = input.ord
RETURNING position, event_id`;

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
  await client.query(APPEND_LOCK_SQL);

  const eventIds = appends.flatMap((append) => append.events.map((event) => event.eventId));
  const streamIds = [...new Set(appends.map((append) => append.streamId))];
  const [storedRows, streamRows] = await Promise.all([
    eventIds.length === 0
      ? { rows: [] }
      : client.query<Pick<EventRow, 'event_id' | 'stream_id' | 'position' | 'type' | 'data' | 'metadata'>>(
          `SELECT event_id, stream_id, position, type, data, metadata FROM events
           WHERE event_id = ANY($1::uuid[])`,
          [eventIds],
        ),
    // The streams' last revisions and tombstones in one query.
    client.query<{ stream_id: string; revision: string | null; tombstoned: boolean }>(
      `SELECT ids.stream_id, s.revision, t.stream_id IS NOT NULL AS tombstoned
       FROM unnest($1::text[]) AS ids(stream_id)
       LEFT JOIN streams s ON s.stream_id = ids.stream_id
       LEFT JOIN stream_tombstones t ON t.stream_id = ids.stream_id`,
      [streamIds],
    ),
  ]);
  const tombstoned = streamIds.find((streamId) =>
    streamRows.rows.some((row) => row.stream_id === streamId && row.tombstoned),
  );
  if (tombstoned !== undefined) throw new StreamTombstonedError(tombstoned);
  const stored = new Map<string, StoredEventRef>(
    storedRows.rows.map((row) => [
      row.event_id,
      {
        streamId: row.stream_id,
        position: BigInt(row.position),
        type: row.type,
        data: row.data,
        metadata: row.metadata,
      },
    ]),
  );
  const revisions = new Map(
    streamRows.rows.flatMap((row) =>
      row.revision === null ? [] : [[row.stream_id, BigInt(row.revision)] as const],
    ),
  );

  const plan = planAppends(appends, options, stored, revisions);

  let rowPositions: bigint[] = [];
  if (plan.rows.length > 0) {
    const inserted = await client.query<{ position: string; event_id: string }>(INSERT_EVENTS_SQL, [
      plan.rows.map((row) => row.streamId),
      plan.rows.map((row) => row.revision.toString()),
      plan.rows.map((row) => row.eventId),
      plan.rows.map((row) => row.type),
      plan.rows.map((row) => row.data),
      plan.rows.map((row) => row.metadata),
    ]);
    const positionById = new Map(inserted.rows.map((row) => [row.event_id, BigInt(row.position)]));
    rowPositions = plan.rows.map((row) => {
      const position = positionById.get(row.eventId.toLowerCase());
      if (position === undefined) throw new Error(`insert returned no position for ${row.eventId}`);
      return position;
    });
    await client.query(
      `INSERT INTO streams (stream_id, revision)
       SELECT * FROM unnest($1::text[], $2::bigint[])
       ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision`,
      [[...plan.streamRevisions.keys()], [...plan.streamRevisions.values()].map(String)],
    );
    const last = rowPositions.reduce((max, position) => (position > max ? position : max), 0n);
    // Delivered at commit, never for a rolled-back append.
    await client.query('SELECT pg_notify($1, $2)', [notifyChannel, last.toString()]);
  }
  if (plan.checkpoints.length > 0) {
    await client.query(
      `INSERT INTO checkpoints (name, value)
       SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now()`,
      [plan.checkpoints.map(([name]) => name), plan.checkpoints.map(([, value]) => value)],
    );
  }
  return resolveResults(plan, rowPositions);
}

export class PostgresEventStore implements EventStore {
  private readonly subscriptions = new Set<PostgresSubscription>();

  private constructor(
    private readonly pool: Pool,
    private readonly ownsPool: boolean,
    private readonly connectionString: string,
    private readonly notifyChannel: string,
    private readonly idlePollMs: number,
  ) {}

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
    await ensureDatabase(options.connectionString);
    const pool = options.pool ?? createPool(options.connectionString);
    try {
      await migrate(pool, 'event-store', readMigrations(eventStoreMigrationsDirectory()));
    } catch (error) {
      if (!options.pool) await pool.end();
      throw error;
    }
    return new PostgresEventStore(pool, !options.pool, options.connectionString, notifyChannel, idlePollMs);
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
    validateAppends(appends, options); // fail fast, before taking a connection
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const results = await appendInTransaction(client, appends, options, this.notifyChannel);
      await client.query('COMMIT');
      return results;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
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
    const subscription = new PostgresSubscription({
      handler,
      after: options.after ?? 0n,
      batchSize: validateMaxCount(options.batchSize ?? 500),
      readAfter: (after, maxCount) => readEventsAfter(this.pool, after, maxCount),
      filter: options.filter,
      db: this.pool,
      connectionString: this.connectionString,
      notifyChannel: this.notifyChannel,
      idlePollMs: this.idlePollMs,
      onEnded: () => this.subscriptions.delete(subscription),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  async readCheckpoint(name: string): Promise<string | undefined> {
    const result = await this.pool.query<{ value: string }>('SELECT value FROM checkpoints WHERE name = $1', [
      name,
    ]);
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
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    if (this.ownsPool) await this.pool.end();
  }
}
