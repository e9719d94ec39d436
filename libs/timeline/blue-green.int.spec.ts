import type { Pool } from 'pg';
import {
  LiveGenerations,
  PostgresEventStore,
  beginGeneration,
  buildGeneration,
  dropRetiredGeneration,
  generationCheckpoint,
  migrateReadModelGenerations,
  searchPathOf,
  searchPathOnCheckout,
  completeGeneration,
  switchGeneration,
} from '@throughline/event-store';
import { createPool, migrateAsOwner, roleOf } from '@throughline/platform';
import {
  allSeeingRequester,
  createTestDatabase,
  recordReferralsOfNewChildren,
  waitFor,
  type TestDatabase,
} from '@throughline/testing';
import {
  TimelineProjector,
  TimelineQueries,
  childKeyOf,
  migrateTimeline,
  timelineReadModel,
} from '@throughline/timeline';

// Decision 023: a new generation of the timeline builds beside the live one while the API reads
// and the live runner writes, survives a crash, takes over in one switch, and the old is dropped.
const PROJECTION = 'timeline';
const MODEL = timelineReadModel(PROJECTION);
const ACCESS = allSeeingRequester();

let database: TestDatabase;
let store: PostgresEventStore;
let owner: Pool;
let readPool: Pool;
let livePool: Pool;
let buildPool: Pool;
let generations: LiveGenerations;
let live: TimelineProjector;
const streams: string[] = [];
let buildingSchema = 'rm_timeline_2';

beforeAll(async () => {
  database = await createTestDatabase('tl_bluegreen');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 20 });
  await migrateAsOwner({ app: database.appUrl, owner: database.ownerUrl }, async (pool, grants) => {
    await migrateReadModelGenerations(pool, grants);
    await migrateTimeline(pool, grants);
  });
  owner = createPool(database.ownerUrl, { max: 1 });
  // The API's pool and the live runner's, on the app role, following the live generation.
  generations = await LiveGenerations.follow(database.appUrl, async () => {
    await live.stop();
    await live.start();
  });
  readPool = createPool(database.appUrl, { max: 3, onCheckout: generations.onCheckout });
  livePool = createPool(database.appUrl, { max: 2, onCheckout: generations.onCheckout });
  // The rebuild's: the generation being built first on its search_path.
  buildPool = createPool(database.appUrl, {
    max: 2,
    onCheckout: searchPathOnCheckout(() => searchPathOf([buildingSchema])),
  });
  live = new TimelineProjector({ pool: livePool, store, name: PROJECTION, batchSize: 25 });
  await live.start();
});

afterAll(async () => {
  await live?.stop();
  await generations?.close();
  await Promise.all([readPool, livePool, buildPool, owner].map((pool) => pool?.end()));
  await store?.close();
  await database?.drop();
});

async function appendChildren(count: number): Promise<void> {
  streams.push(...(await recordReferralsOfNewChildren(store, count)));
}

/** Reads the API would make, in a loop until stopped: each must answer, with the child's one entry. */
function readContinuously(): { stop: () => Promise<number> } {
  let stopping = false;
  const reading = (async () => {
    let reads = 0;
    while (!stopping) {
      const stream = streams[reads % 20];
      const timeline = await new TimelineQueries(readPool).timelineOf(childKeyOf(stream), ACCESS);
      expect(timeline.childKey).toBe(childKeyOf(stream));
      expect(timeline.entries.map((entry) => entry.type)).toEqual(['social-care.referral.received']);
      reads++;
    }
    return reads;
  })();
  return {
    stop: async () => {
      stopping = true;
      return reading;
    },
  };
}

async function storePositions(): Promise<string[]> {
  const { rows } = await owner.query<{ position: string }>('SELECT position FROM events ORDER BY position');
  return rows.map((row) => row.position);
}

async function entryPositions(): Promise<string[]> {
  const { rows } = await readPool.query<{ position: string }>(
    'SELECT position FROM timeline_entries ORDER BY position',
  );
  return rows.map((row) => row.position);
}

it('builds a new generation beside the live one, survives a crash, switches, and drops the old', async () => {
  await appendChildren(120);
  await live.waitForPosition(await store.headPosition());
  expect(await entryPositions()).toEqual(await storePositions());
  const reads = readContinuously();

  // The next generation: a schema of its own, empty copies of the tables, the app role granted.
  const generation = await beginGeneration(owner, MODEL, roleOf(database.appUrl));
  expect(generation).toMatchObject({ liveSchema: 'public', buildingSchema: 'rm_timeline_2' });
  const building = () =>
    new TimelineProjector({ pool: buildPool, store, name: PROJECTION, batchSize: 10 }).runner;

  // A build that stops half-way (a crash, Ctrl-C) while events keep coming.
  const crash = new AbortController();
  const appending = appendChildren(60);
  const stopped = await buildGeneration({
    store,
    runner: building(),
    slack: 0,
    intervalMs: 10,
    signal: crash.signal,
    onProgress: ({ position }) => {
      if (position >= 50n) crash.abort();
    },
  });
  expect(stopped).toBe(false);
  const builtBeforeCrash = await generationCheckpoint(owner, MODEL, 'rm_timeline_2');
  expect(builtBeforeCrash).toBeGreaterThanOrEqual(50n);

  // Started again it resumes into the same generation from its checkpoint.
  expect(await beginGeneration(owner, MODEL, roleOf(database.appUrl))).toMatchObject({
    buildingSchema: 'rm_timeline_2',
  });
  const progress: bigint[] = [];
  const resumed = building();
  const caughtUp = await buildGeneration({
    store,
    runner: resumed,
    slack: 0,
    intervalMs: 10,
    onProgress: ({ position }) => progress.push(position),
  });
  expect(caughtUp).toBe(true);
  expect(progress[0]).toBeGreaterThanOrEqual(builtBeforeCrash);
  await appending;

  // The switch: refused until the entries have the read indexes they were filled without
  // (decision 040), then one transaction, NOTIFYed; the API's connections and the live runner move.
  await expect(switchGeneration(owner, MODEL)).rejects.toThrow(
    'read model timeline: rm_timeline_2.timeline_entries lacks 2 of the live generation',
  );
  expect((await completeGeneration(owner, MODEL)).map((index) => index.table)).toEqual([
    'timeline_entries',
    'timeline_entries',
  ]);
  const switched = await switchGeneration(owner, MODEL);
  expect(switched).toMatchObject({ liveSchema: 'rm_timeline_2', retiredSchema: 'public', generation: 2 });
  await waitFor(() => generations.liveSchemas().get('timeline') === 'rm_timeline_2', {
    message: 'the switch to reach the API',
  });
  await appendChildren(30);
  await live.waitForPosition(await store.headPosition());
  const { rows } = await readPool.query<{ schema: string }>('SELECT current_schema() AS schema');
  expect(rows[0].schema).toBe('rm_timeline_2');
  // Every event exactly once: the entries' positions are the store's, none missing, none twice.
  expect(await entryPositions()).toEqual(await storePositions());
  expect(await generationCheckpoint(owner, MODEL, 'rm_timeline_2')).toBe(await store.headPosition());

  // The old generation goes; the access log, not rebuildable, stays in public.
  expect(await dropRetiredGeneration(owner, MODEL)).toBe('public');
  const tables = await owner.query<{ entries: string | null; log: string | null }>(
    "SELECT to_regclass('public.timeline_entries')::text AS entries, to_regclass('public.access_log')::text AS log",
  );
  expect(tables.rows[0]).toEqual({ entries: null, log: 'access_log' });
  expect(await reads.stop()).toBeGreaterThan(0);
  expect(await entryPositions()).toEqual(await storePositions());

  // A second rebuild copies the live generation's tables and retires its schema whole.
  expect(await beginGeneration(owner, MODEL, roleOf(database.appUrl))).toMatchObject({
    liveSchema: 'rm_timeline_2',
    buildingSchema: 'rm_timeline_3',
  });
  buildingSchema = 'rm_timeline_3';
  expect(await buildGeneration({ store, runner: building(), slack: 0, intervalMs: 10 })).toBe(true);
  await completeGeneration(owner, MODEL);
  await switchGeneration(owner, MODEL);
  await waitFor(() => generations.liveSchemas().get('timeline') === 'rm_timeline_3');
  expect(await dropRetiredGeneration(owner, MODEL)).toBe('rm_timeline_2');
  await live.waitForPosition(await store.headPosition());
  expect(await entryPositions()).toEqual(await storePositions());
});
