import type { Pool } from 'pg';
import { createPool } from '@throughline/platform';
import { createTestDatabase, type TestDatabase } from '@throughline/testing';
import {
  measureAppendBatches,
  measureAppendSingles,
  measureCatchUp,
  openStoreDatabase,
  storeInputsOf,
  type StoreDatabase,
} from './event-store-stages';
import { generateBenchCohort } from './payloads';
import {
  measurePostgresRawCopy,
  measurePostgresRawSelect,
  measurePostgresRawSingleInserts,
  rawRowsOf,
  type RawRow,
} from './postgres-raw';
import { Teardown } from './teardown';

const TIMEOUT_MS = 60_000;
const cohort = generateBenchCohort(1000);
const allRows = rawRowsOf(cohort.events, (event) => `${event.agency}.events.v1`);
const allInputs = storeInputsOf(cohort.events, allRows);

describe('postgres.raw_copy', () => {
  let database: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    database = await createTestDatabase('tl_bench_copy');
    pool = createPool(database.url, { max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('stores every row exactly as given, including the characters COPY text format escapes', async () => {
    const awkward: RawRow = {
      ...allRows[0],
      streamId: 'health-tab\there',
      type: 'health.line\nbreak\rreturn',
      data: JSON.stringify({ note: 'back \\ slash, "quoted", tab\t, newline\n, é ✓' }),
    };
    const rows = [awkward, ...allRows.slice(1, 500)];
    const measured = await measurePostgresRawCopy(pool, rows, TIMEOUT_MS);
    expect(measured.eventsPerSecond).toBeGreaterThan(0);

    const stored = await pool.query<{
      event_id: string;
      stream_id: string;
      revision: string;
      type: string;
      data: unknown;
      metadata: unknown;
    }>('SELECT event_id, stream_id, revision, type, data, metadata FROM bench_raw_copy_events');
    const byId = new Map(stored.rows.map((row) => [row.event_id, row]));
    expect(byId.size).toBe(rows.length);
    for (const row of rows) {
      const back = byId.get(row.eventId)!;
      expect(back).toEqual({
        event_id: row.eventId,
        stream_id: row.streamId,
        revision: String(row.revision),
        type: row.type,
        data: JSON.parse(row.data),
        metadata: JSON.parse(row.metadata),
      });
    }
  });
});

describe('the store stages', () => {
  const teardown = new Teardown();
  let filled: StoreDatabase;

  beforeAll(async () => {
    const database = await createTestDatabase('tl_bench_store');
    teardown.add('drop the test database', () => database.drop());
    filled = await openStoreDatabase(database.url, 2, teardown);
  });
  afterAll(async () => {
    expect(await teardown.runAll()).toEqual([]);
  });

  it('append_batch stores the same rows with the revisions the raw stages write', async () => {
    const inputs = allInputs.slice(0, 300);
    const measured = await measureAppendBatches(filled, inputs, 100, TIMEOUT_MS);
    expect(measured).toMatchObject({ batchSize: 100, calls: 3 });

    // Positions follow the grouping by stream within a batch (as the recorder's do), so compare as sets.
    const stored = await filled.store.readAll({ maxCount: 1000 });
    const byEventId = (a: readonly [string, string, number], b: readonly [string, string, number]) =>
      a[0].localeCompare(b[0]);
    expect(
      stored.map((event) => [event.eventId, event.streamId, Number(event.revision)] as const).sort(byEventId),
    ).toEqual(
      allRows
        .slice(0, 300)
        .map((row) => [row.eventId, row.streamId, row.revision] as const)
        .sort(byEventId),
    );
    const first = stored.find((event) => event.eventId === allRows[0].eventId)!;
    expect(first.data).toEqual(cohort.events[0].event);
    expect(first.metadata).toEqual(JSON.parse(allRows[0].metadata));
  });

  it('raw_select and catch_up read every stored event, in pages of the batch size', async () => {
    const selected = await measurePostgresRawSelect(filled.pool, 300, 50, TIMEOUT_MS);
    expect(selected.queries).toBe(7); // six full pages, then the empty one that ends the scan
    const caughtUp = await measureCatchUp(filled, 300, 50, TIMEOUT_MS);
    expect(caughtUp.batches).toBe(6);
    await expect(measureCatchUp(filled, 299, 50, TIMEOUT_MS)).rejects.toThrow(
      'event_store.catch_up delivered 300 of 299 events',
    );
  });

  it("raw_copy into the store's own events table gives readable events, positions from its sequence", async () => {
    const database = await createTestDatabase('tl_bench_schema_copy');
    teardown.add('drop the schema copy test database', () => database.drop());
    const copied = await openStoreDatabase(database.url, 1, teardown);
    await measurePostgresRawCopy(copied.pool, allRows.slice(0, 100), TIMEOUT_MS, 'events');
    const stored = await copied.store.readAll({ maxCount: 1000 });
    expect(stored.map((event) => [event.position, event.eventId])).toEqual(
      allRows.slice(0, 100).map((row, index) => [BigInt(index + 1), row.eventId]),
    );
    expect(await copied.store.headPosition()).toBe(100n);
  });

  it('append_single and its raw ceiling time every write from concurrent writers, keeping each stream in order', async () => {
    const database = await createTestDatabase('tl_bench_single');
    teardown.add('drop the single test database', () => database.drop());
    const singles = await openStoreDatabase(database.url, 4, teardown);

    const raw = await measurePostgresRawSingleInserts(singles.pool, allRows.slice(0, 120), 4, TIMEOUT_MS);
    expect(raw.latency.count).toBe(120);

    const measured = await measureAppendSingles(singles, allInputs.slice(0, 120), 4, TIMEOUT_MS);
    expect(measured.latency.count).toBe(120);
    expect(measured.latency.p99).toBeGreaterThanOrEqual(measured.latency.p50);
    const stored = await singles.store.readAll({ maxCount: 1000 });
    const expectedRevision = new Map(allRows.slice(0, 120).map((row) => [row.eventId, row.revision]));
    expect(stored.map((event) => Number(event.revision))).toEqual(
      stored.map((event) => expectedRevision.get(event.eventId)),
    );
  });
});
