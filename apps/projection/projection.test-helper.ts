/// <reference types="jest" />
import type { Pool } from 'pg';
import type { AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { createPool, loadConfig } from '@throughline/platform';
import {
  AccessLogReader,
  createTestDatabase,
  recordAsTheRecorderWould,
  startTestAccess,
  type TestAccess,
  type TestDatabase,
} from '@throughline/testing';
import { createProjectionApp, type ProjectionApp } from './app';

/** What an HTTP-level spec of the projection talks to, set once its beforeAll has run. */
export interface ProjectionUnderTest {
  /** The run's own OpenID provider and the demo policy (tokens and headers for demo users). */
  readonly access: TestAccess;
  readonly projection: ProjectionApp;
  /** The owner's pool on the spec's database, for reading what the app wrote. */
  readonly pool: Pool;
  /** The access log since the last read; every spec must have read all it caused (afterEach checks). */
  readonly log: AccessLogReader;
}

/**
 * Registers the set-up the projection's HTTP specs share: a real OpenID provider, a database of
 * their own with `events` recorded as the recorder would, the projection app on the app role
 * caught up with them, and after each test a check that no access record went unread.
 */
export function projectionUnderTest(options: {
  /** Names the database and the projection's checkpoint. */
  readonly name: string;
  readonly events: readonly AgencyEvent[];
  /** More configuration, e.g. OUTCOME_FRAMEWORKS_FILE. */
  readonly env?: Readonly<Record<string, string>>;
}): ProjectionUnderTest {
  const world = {} as { -readonly [K in keyof ProjectionUnderTest]: ProjectionUnderTest[K] };
  let database: TestDatabase | undefined;
  let store: PostgresEventStore | undefined;

  beforeAll(async () => {
    world.access = await startTestAccess();
    database = await createTestDatabase(`tl_projection_${options.name.replace(/-/g, '_')}`);
    store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
    await recordAsTheRecorderWould(store, ...options.events);
    world.projection = await createProjectionApp(
      loadConfig({
        ...world.access.env,
        ...options.env,
        THROUGHLINE_MODE: 'development',
        DATABASE_URL: database.appUrl,
        PROJECTION_PORT: '0',
        PROJECTION_NAME: options.name,
        LOG_LEVEL: 'error',
      }),
      { store },
    );
    await world.projection.caughtUp();
    world.pool = createPool(database.url);
    world.log = new AccessLogReader(world.pool);
  }, 60_000);

  afterEach(async () => {
    if (world.log) expect(await world.log.sinceLastRead()).toEqual([]);
  });

  afterAll(async () => {
    await world.pool?.end();
    await world.projection?.close();
    await store?.close();
    await database?.drop();
    await world.access?.stop();
  });

  return world;
}
