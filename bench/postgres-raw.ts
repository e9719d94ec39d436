import type { Pool } from 'pg';
import { withDeadline } from './deadline';
import type { BenchEvent } from './payloads';
import { elapsedMs, perSecond } from './stats';

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

export async function measurePostgresRawInsert(
  pool: Pool,
  rows: readonly RawRow[],
  batchSize: number,
  timeoutMs: number,
): Promise<PostgresThroughput> {
  const table = 'bench_raw_events';
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.query(`CREATE TABLE ${table} (
    event_id uuid PRIMARY KEY, stream_id text NOT NULL, revision bigint NOT NULL,
    type text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL)`);
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
      const stored = await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${table}`);
      if (Number(stored.rows[0].count) !== rows.length) {
        throw new Error(`postgres.raw_insert stored ${stored.rows[0].count} of ${rows.length} rows`);
      }
      return { eventsPerSecond: perSecond(rows.length, elapsed), elapsedMs: elapsed };
    });
  } finally {
    client.release();
  }
}
