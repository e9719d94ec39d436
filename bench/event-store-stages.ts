import type { Pool } from 'pg';
import { PostgresEventStore, type EventToAppend, type StreamAppend } from '@throughline/event-store';
import {
  bootstrapDatabase,
  connectionAs,
  createPool,
  DEFAULT_ADMIN_ROLE,
  dropDatabase,
  roleOf,
} from '@throughline/platform';
import { withDeadline } from './deadline';
import type { BenchEvent } from './payloads';
import {
  runConcurrentSingles,
  dealStreamsToWriters,
  type ConcurrentSingles,
  type RawRow,
} from './postgres-raw';
import { elapsedMs, perSecond } from './stats';
import type { Teardown } from './teardown';

/**
 * The event store's own stages, driven in-process through `PostgresEventStore` (no apps,
 * no Kafka), each on a database of its own so that every run starts from an empty store.
 */

/** An event as the recorder hands it to the store: the parsed event as data, lineage as metadata. */
export interface StoreInput {
  readonly streamId: string;
  readonly event: EventToAppend;
}

/** The same rows the raw stages write: data is the agency event, metadata the raw row's lineage. */
export function storeInputsOf(events: readonly BenchEvent[], rows: readonly RawRow[]): StoreInput[] {
  if (events.length !== rows.length) throw new Error(`${events.length} events but ${rows.length} rows`);
  return events.map((event, index) => ({
    streamId: event.streamId,
    event: {
      eventId: event.eventId,
      type: event.type,
      data: event.event,
      metadata: JSON.parse(rows[index].metadata) as Record<string, unknown>,
    },
  }));
}

/**
 * Consecutive slices of `batchSize` events, each one `appendMany` call with one StreamAppend
 * per stream (first-appearance order, events in input order), as the recorder groups a batch.
 */
export function appendBatchesOf(inputs: readonly StoreInput[], batchSize: number): StreamAppend[][] {
  const batches: StreamAppend[][] = [];
  for (let offset = 0; offset < inputs.length; offset += batchSize) {
    const byStream = new Map<string, EventToAppend[]>();
    for (const input of inputs.slice(offset, offset + batchSize)) {
      const events = byStream.get(input.streamId) ?? [];
      events.push(input.event);
      byStream.set(input.streamId, events);
    }
    batches.push([...byStream].map(([streamId, events]) => ({ streamId, events, expectedRevision: 'any' })));
  }
  return batches;
}

/** A store on a fresh database; `dispose` closes it and drops the database (also run at teardown). */
export interface StoreDatabase {
  readonly store: PostgresEventStore;
  readonly pool: Pool;
  dispose(): Promise<void>;
}

/**
 * The admin connection that makes and drops bench databases: DATABASE_ADMIN_URL, else the owner
 * URL's server as `postgres` (docs/decisions/011-database-roles.md).
 */
export function benchAdminUrl(ownerUrl: string): string {
  return (
    process.env.DATABASE_ADMIN_URL ||
    connectionAs(ownerUrl, { user: DEFAULT_ADMIN_ROLE, database: 'postgres' })
  );
}

/**
 * Creates a bench database owned by the owner role of `ownerUrl` (the admin makes it, and the
 * roles if missing); `appUrl`, if given, is the role the apps will connect as.
 */
export async function createBenchDatabase(ownerUrl: string, appUrl = ownerUrl): Promise<void> {
  await bootstrapDatabase({ owner: ownerUrl, app: appUrl, admin: benchAdminUrl(ownerUrl) });
}

/** Drops a bench database as the admin (ending any session of the app role still open). */
export async function dropBenchDatabase(url: string): Promise<void> {
  await dropDatabase(connectionAs(benchAdminUrl(url), { database: new URL(url).pathname.slice(1) }));
}

/** The bench database's URL as the app role of DATABASE_URL (its password kept). */
export function benchAppUrl(ownerUrl: string, configuredAppUrl: string): string {
  const url = new URL(configuredAppUrl);
  url.pathname = new URL(ownerUrl).pathname;
  return roleOf(configuredAppUrl) === roleOf(ownerUrl) ? ownerUrl : url.toString();
}

export async function openStoreDatabase(
  url: string,
  connections: number,
  teardown: Teardown,
): Promise<StoreDatabase> {
  await createBenchDatabase(url);
  const pool = createPool(url, { max: connections });
  const opened: { store?: PostgresEventStore } = {};
  let disposing: Promise<void> | undefined;
  const dispose = () =>
    (disposing ??= (async () => {
      await opened.store?.close(); // stops any subscription still running
      await pool.end();
      await dropBenchDatabase(url);
    })());
  teardown.add(`drop ${new URL(url).pathname.slice(1)}`, dispose);
  const store = await PostgresEventStore.create({ connectionString: url, pool });
  opened.store = store;
  return { store, pool, dispose };
}

async function storedEvents(pool: Pool): Promise<number> {
  const result = await pool.query<{ count: string }>('SELECT count(*) AS count FROM events');
  return Number(result.rows[0].count);
}

export interface AppendBatchThroughput {
  readonly batchSize: number;
  readonly eventsPerSecond: number;
  readonly elapsedMs: number;
  readonly calls: number;
}

/** `appendMany` once per batch, one after another, on an empty store; checks every event landed. */
export async function measureAppendBatches(
  database: StoreDatabase,
  inputs: readonly StoreInput[],
  batchSize: number,
  timeoutMs: number,
): Promise<AppendBatchThroughput> {
  const batches = appendBatchesOf(inputs, batchSize);
  return withDeadline(`event_store.append_batch (${batchSize})`, timeoutMs, async (signal) => {
    const start = process.hrtime.bigint();
    for (const batch of batches) {
      signal.throwIfAborted();
      await database.store.appendMany(batch);
    }
    const elapsed = elapsedMs(start);
    const stored = await storedEvents(database.pool);
    if (stored !== inputs.length) {
      throw new Error(`event_store.append_batch (${batchSize}) stored ${stored} of ${inputs.length} events`);
    }
    return {
      batchSize,
      eventsPerSecond: perSecond(inputs.length, elapsed),
      elapsedMs: elapsed,
      calls: batches.length,
    };
  });
}

export interface CatchUpThroughput {
  readonly eventsPerSecond: number;
  readonly elapsedMs: number;
  readonly batches: number;
}

/**
 * `subscribeToAll` from position 0 until the handler has been given the head. The clock
 * starts before the call, so the subscription's LISTEN connection is part of the time.
 */
export async function measureCatchUp(
  database: StoreDatabase,
  expectedEvents: number,
  batchSize: number,
  timeoutMs: number,
): Promise<CatchUpThroughput> {
  const head = await database.store.headPosition();
  return withDeadline('event_store.catch_up', timeoutMs, async () => {
    let delivered = 0;
    let batches = 0;
    let reachedHead!: () => void;
    const reached = new Promise<void>((resolve) => (reachedHead = resolve));
    const start = process.hrtime.bigint();
    const subscription = database.store.subscribeToAll(
      async (events) => {
        delivered += events.length;
        batches += 1;
        if (events[events.length - 1].position >= head) reachedHead();
      },
      { after: 0n, batchSize },
    );
    try {
      await Promise.race([
        reached,
        subscription.finished.then(() => {
          throw new Error('event_store.catch_up: the subscription ended before the head');
        }),
      ]);
      const elapsed = elapsedMs(start);
      if (delivered !== expectedEvents) {
        throw new Error(`event_store.catch_up delivered ${delivered} of ${expectedEvents} events`);
      }
      return { eventsPerSecond: perSecond(delivered, elapsed), elapsedMs: elapsed, batches };
    } finally {
      await subscription.stop();
    }
  });
}

/** Single-event `append` calls, writers at once, no two writers on the same stream. */
export async function measureAppendSingles(
  database: StoreDatabase,
  inputs: readonly StoreInput[],
  writers: number,
  timeoutMs: number,
): Promise<ConcurrentSingles> {
  const before = await storedEvents(database.pool);
  const measured = await runConcurrentSingles(
    'event_store.append_single',
    dealStreamsToWriters(inputs, writers),
    (input) => database.store.append(input.streamId, [input.event], 'any'),
    timeoutMs,
  );
  const stored = (await storedEvents(database.pool)) - before;
  if (stored !== inputs.length) {
    throw new Error(`event_store.append_single stored ${stored} of ${inputs.length} events`);
  }
  return measured;
}
