/// <reference types="jest" />
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import type { Browser } from 'playwright-core';
import type { AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { createPool, loadConfig, projectRoot } from '@throughline/platform';
import {
  AccessLogReader,
  createTestDatabase,
  DEMO_POLICY_FILE,
  freeLoopbackPort,
  launchChromium,
  recordAsTheRecorderWould,
  startLocalOidcProvider,
  startTestAccess,
  type LocalOidcProvider,
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

/** What a browser spec of one of the pages talks to: the real provider, the projection, Chromium. */
export interface PageStack {
  readonly oidc: LocalOidcProvider;
  readonly database: TestDatabase;
  readonly store: PostgresEventStore;
  readonly projection: ProjectionApp;
  readonly browser: Browser;
  /** The local provider's demo users' passwords, to sign in through its own pages. */
  readonly passwords: Record<string, string>;
}

/**
 * Starts what the pages' browser specs share: the local OpenID provider told the projection's
 * port first (the page's redirect URI names it), a database of their own, the projection app
 * with the demo policy and outcome frameworks and the page client's secret, and Chromium.
 */
export async function startPageStack(options: {
  /** Names the database and the projection's checkpoint. */
  readonly name: string;
  /** More configuration, e.g. a sign-in rate limit. */
  readonly env?: Readonly<Record<string, string>>;
}): Promise<PageStack> {
  // First, so a machine without Chromium fails before anything is left running.
  const browser = await launchChromium();
  const port = await freeLoopbackPort();
  const oidc = await startLocalOidcProvider({ env: { PROJECTION_PORT: String(port) } });
  const state = JSON.parse(readFileSync(join(oidc.cacheDir, 'oidc', 'local-provider.json'), 'utf8')) as {
    passwords: Record<string, string>;
    clientSecrets: Record<string, string>;
  };
  const database = await createTestDatabase(`tl_${options.name.replace(/-/g, '_')}`);
  const store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  const projection = await createProjectionApp(
    loadConfig({
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: database.url,
      PROJECTION_PORT: String(port),
      PROJECTION_NAME: options.name,
      LOG_LEVEL: 'error',
      ...oidc.env,
      ACCESS_POLICY_FILE: DEMO_POLICY_FILE,
      OIDC_PAGE_CLIENT_SECRET: state.clientSecrets['throughline-page'],
      OUTCOME_FRAMEWORKS_FILE: join(projectRoot(), 'infra', 'outcome-frameworks.json'),
      ...options.env,
    }),
    { store },
  );
  return { oidc, database, store, projection, browser, passwords: state.passwords };
}

/** Stops what startPageStack started, whatever of it did start. */
export async function stopPageStack(stack: Partial<PageStack>): Promise<void> {
  await stack.browser?.close();
  await stack.projection?.close();
  await stack.store?.close();
  await stack.database?.drop();
  await stack.oidc?.stop();
}
