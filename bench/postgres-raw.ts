import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { withDeadline } from './deadline';
import type { BenchEvent } from './payloads';
import { elapsedMs, perSecond, summariseLatencies, type LatencySummary } from './stats';

/**
 * The PostgreSQL ceiling: the rows the recorder writes (the event as data, lineage-shaped
 * metadata), inserted with plain multi-row INSERTs into a bare table (primary key only):
 * no advisory lock, no idempotency check, no stream table, no checkpoint.
 */

export interface PostgresThroughput {
  readonly eventsPerSecond: number;
  readonly elapsedMs: number;
}

const COLUMNS = 6;

export interface RawRow {
  readonly eventId: string;
  readonly streamId: string;
  readonly revision: number;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

/** Rows in input order, with each stream's revisions counted from 0 as the store would. */
export function rawRowsOf(events: readonly BenchEvent[], topicOf: (event: BenchEvent) => string): RawRow[] {
  const revisions = new Map<string, number>();
  return events.map((event, index) => {
    const revision = revisions.get(event.streamId) ?? 0;
    revisions.set(event.streamId, revision + 1);
    const metadata = {
      topic: topicOf(event),
      partition: 0,
      offset: String(index),
      key: event.key,
      publisher: `${event.agency}:bench`,
      sourceSystem: event.sourceSystem,
      kafkaTimestamp: new Date().toISOString(),
      recordedBy: 'recorder',
    };
    return {
      eventId: event.eventId,
      streamId: event.streamId,
      revision,
      type: event.type,
      data: event.json,
      metadata: JSON.stringify(metadata),
    };
  });
}

function insertStatement(table: string, rowCount: number): string {
  const tuples = Array.from({ length: rowCount }, (_, row) => {
    const at = row * COLUMNS;
    return `($${at + 1}::uuid, $${at + 2}, $${at + 3}::bigint, $${at + 4}, $${at + 5}::jsonb, $${at + 6}::jsonb)`;
  });
  return `INSERT INTO ${table} (event_id, stream_id, revision, type, data, metadata) VALUES ${tuples.join(', ')}`;
}

/** A fresh bare table (primary key only) with the columns every raw stage writes. */
async function createBareTable(pool: Pool, table: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.query(`CREATE TABLE ${table} (
    event_id uuid PRIMARY KEY, stream_id text NOT NULL, revision bigint NOT NULL,
    type text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL)`);
}

async function expectRowCount(
  client: PoolClient,
  table: string,
  expected: number,
  stage: string,
): Promise<void> {
  const stored = await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${table}`);
  if (Number(stored.rows[0].count) !== expected) {
    throw new Error(`${stage} stored ${stored.rows[0].count} of ${expected} rows`);
  }
}

export async function measurePostgresRawInsert(
  pool: Pool,
  rows: readonly RawRow[],
  batchSize: number,
  timeoutMs: number,
): Promise<PostgresThroughput> {
  const table = 'bench_raw_events';
  await createBareTable(pool, table);
  const client = await pool.connect();
  try {
    return await withDeadline('postgres.raw_insert', timeoutMs, async (signal) => {
      const start = process.hrtime.bigint();
      for (let offset = 0; offset < rows.length; offset += batchSize) {
        signal.throwIfAborted();
        const batch = rows.slice(offset, offset + batchSize);
        const values = batch.flatMap((row) => [
          row.eventId,
          row.streamId,
          row.revision,
          row.type,
          row.data,
          row.metadata,
        ]);
        await client.query(insertStatement(table, batch.length), values);
      }
      const elapsed = elapsedMs(start);
      await expectRowCount(client, table, rows.length, 'postgres.raw_insert');
      return { eventsPerSecond: perSecond(rows.length, elapsed), elapsedMs: elapsed };
    });
  } finally {
    client.release();
  }
}

/** COPY text format: backslash, newline, carriage return and tab are escaped; nothing else is special. */
function copyField(value: string): string {
  return value.replace(/[\\\n\r\t]/g, (character) => {
    switch (character) {
      case '\\':
        return '\\\\';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      default:
        return '\\t';
    }
  });
}

/** One row as a line of COPY text (columns in the bare table's order, tab-separated). */
export function copyLine(row: RawRow): string {
  return (
    `${row.eventId}\t${copyField(row.streamId)}\t${row.revision}\t${copyField(row.type)}\t` +
    `${copyField(row.data)}\t${copyField(row.metadata)}\n`
  );
}

/** Rows as COPY text, this many rows per chunk (one chunk per stream write, not one per row). */
function* copyChunks(rows: readonly RawRow[], rowsPerChunk: number): Generator<string> {
  for (let offset = 0; offset < rows.length; offset += rowsPerChunk) {
    yield rows
      .slice(offset, offset + rowsPerChunk)
      .map(copyLine)
      .join('');
  }
}

const COPY_ROWS_PER_CHUNK = 1000;

/**
 * The bulk-load ceiling: all rows in one `COPY ... FROM STDIN` (text format, streamed in
 * chunks of 1,000 rows) into a fresh bare table, on one connection, in one transaction.
 * The escaping is timed: the store serialises its input too. With `existingTable`, the rows go
 * into that (empty) table instead, e.g. the store's own `events` (other columns take defaults).
 */
export async function measurePostgresRawCopy(
  pool: Pool,
  rows: readonly RawRow[],
  timeoutMs: number,
  existingTable?: string,
): Promise<PostgresThroughput> {
  const table = existingTable ?? 'bench_raw_copy_events';
  if (existingTable === undefined) await createBareTable(pool, table);
  const client = await pool.connect();
  let broken = false;
  try {
    return await withDeadline('postgres.raw_copy', timeoutMs, async () => {
      const start = process.hrtime.bigint();
      const copy = client.query(
        copyFrom(`COPY ${table} (event_id, stream_id, revision, type, data, metadata) FROM STDIN`),
      );
      await pipeline(Readable.from(copyChunks(rows, COPY_ROWS_PER_CHUNK)), copy);
      const elapsed = elapsedMs(start);
      await expectRowCount(client, table, rows.length, 'postgres.raw_copy');
      return { eventsPerSecond: perSecond(rows.length, elapsed), elapsedMs: elapsed };
    });
  } catch (error) {
    broken = true; // a COPY cut short leaves the connection mid-protocol: never reuse it
    throw error;
  } finally {
    client.release(broken);
  }
}

/** The columns the store's readers select, in its order. */
const STORE_EVENT_COLUMNS = 'position, stream_id, revision, event_id, type, data, metadata, recorded_at';

export interface PostgresReadThroughput extends PostgresThroughput {
  readonly queries: number;
}

/**
 * The read ceiling: the store's `events` table read start to end with plain keyset
 * pagination (`position > last ORDER BY position LIMIT batch`), the same columns and the
 * same pg row parsing (jsonb to objects) a subscription gets, on one connection.
 */
export async function measurePostgresRawSelect(
  pool: Pool,
  expectedRows: number,
  batchSize: number,
  timeoutMs: number,
): Promise<PostgresReadThroughput> {
  const client = await pool.connect();
  try {
    return await withDeadline('postgres.raw_select', timeoutMs, async (signal) => {
      const start = process.hrtime.bigint();
      let after = '0';
      let read = 0;
      let queries = 0;
      for (;;) {
        signal.throwIfAborted();
        const result = await client.query<{ position: string }>(
          `SELECT ${STORE_EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2`,
          [after, batchSize],
        );
        queries += 1;
        if (result.rows.length === 0) break;
        read += result.rows.length;
        after = result.rows[result.rows.length - 1].position;
      }
      const elapsed = elapsedMs(start);
      if (read !== expectedRows) throw new Error(`postgres.raw_select read ${read} of ${expectedRows} rows`);
      return { eventsPerSecond: perSecond(read, elapsed), elapsedMs: elapsed, queries };
    });
  } finally {
    client.release();
  }
}

/**
 * Splits rows among writers so that no two writers ever touch the same stream: streams are
 * dealt round-robin in order of first appearance, and each writer keeps its streams' rows in
 * input order.
 */
export function dealStreamsToWriters<T extends { readonly streamId: string }>(
  rows: readonly T[],
  writers: number,
): T[][] {
  if (!Number.isSafeInteger(writers) || writers < 1) {
    throw new RangeError(`writers ${writers} must be a positive integer`);
  }
  const writerOf = new Map<string, number>();
  const dealt = Array.from({ length: writers }, (): T[] => []);
  for (const row of rows) {
    let writer = writerOf.get(row.streamId);
    if (writer === undefined) {
      writer = writerOf.size % writers;
      writerOf.set(row.streamId, writer);
    }
    dealt[writer].push(row);
  }
  return dealt;
}

export interface ConcurrentSingles {
  readonly eventsPerSecond: number;
  readonly elapsedMs: number;
  readonly latency: LatencySummary;
}

/**
 * Runs `write` once per item, `lanes.length` writers at once (closed loop: each writer
 * starts its next write when the previous one returns); times every write and the whole.
 */
export async function runConcurrentSingles<T>(
  stage: string,
  lanes: readonly (readonly T[])[],
  write: (item: T) => Promise<unknown>,
  timeoutMs: number,
): Promise<ConcurrentSingles> {
  return withDeadline(stage, timeoutMs, async (signal) => {
    const latencies: number[] = [];
    const start = process.hrtime.bigint();
    await Promise.all(
      lanes.map(async (lane) => {
        for (const item of lane) {
          signal.throwIfAborted();
          const sent = process.hrtime.bigint();
          await write(item);
          latencies.push(elapsedMs(sent));
        }
      }),
    );
    const elapsed = elapsedMs(start);
    return {
      eventsPerSecond: perSecond(latencies.length, elapsed),
      elapsedMs: elapsed,
      latency: summariseLatencies(latencies),
    };
  });
}

/**
 * The single-write ceiling: one-row `INSERT`s, each its own (autocommitted) transaction,
 * from concurrent writers on connections of their own, into a fresh bare table.
 */
export async function measurePostgresRawSingleInserts(
  pool: Pool,
  rows: readonly RawRow[],
  writers: number,
  timeoutMs: number,
): Promise<ConcurrentSingles> {
  const table = 'bench_raw_single_events';
  await createBareTable(pool, table);
  const clients = await Promise.all(Array.from({ length: writers }, () => pool.connect()));
  try {
    const lanes = dealStreamsToWriters(rows, writers).map((lane, writer) =>
      lane.map((row) => ({ row, client: clients[writer] })),
    );
    const statement = insertStatement(table, 1);
    const measured = await runConcurrentSingles(
      'postgres.raw_single_insert',
      lanes,
      ({ row, client }) =>
        client.query(statement, [row.eventId, row.streamId, row.revision, row.type, row.data, row.metadata]),
      timeoutMs,
    );
    await expectRowCount(clients[0], table, rows.length, 'postgres.raw_single_insert');
    return measured;
  } finally {
    for (const client of clients) client.release();
  }
}
