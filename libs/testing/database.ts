import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import {
  bootstrapDatabase,
  connectionAs,
  DEFAULT_ADMIN_ROLE,
  DEFAULT_APP_ROLE,
  DEFAULT_OWNER_ROLE,
  dropDatabase,
} from '@throughline/platform';

const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432';

/**
 * The one place tests read the environment for infrastructure: a server URL, as a role that may
 * create roles and databases and end any session: TEST_DATABASE_BASE_URL, or the server part of
 * DATABASE_ADMIN_URL, or DATABASE_URL's server as `postgres`, or the local PostgreSQL. Returned
 * without a database name.
 */
export function testDatabaseServerUrl(env: NodeJS.ProcessEnv = process.env): string {
  const configured =
    env.TEST_DATABASE_BASE_URL ??
    env.DATABASE_ADMIN_URL ??
    (env.DATABASE_URL ? connectionAs(env.DATABASE_URL, { user: DEFAULT_ADMIN_ROLE }) : undefined);
  if (!configured) return LOCAL_POSTGRES;
  const url = new URL(configured);
  url.pathname = '';
  url.search = '';
  return url.toString().replace(/\/$/, '');
}

export interface TestDatabase {
  /**
   * As the owner role, which owns the database and every table: migrations, fixtures, DDL, and
   * the apps of a test that runs them as the owner (one role doing both, as before decision 011).
   */
  readonly url: string;
  /** The same as `url`, named for what it is: DATABASE_OWNER_URL. */
  readonly ownerUrl: string;
  /**
   * As the app role (DATABASE_URL in production): rows only, no UPDATE/DELETE/TRUNCATE on the
   * store and audit tables, no DDL. Apps given it derive DATABASE_OWNER_URL (`url`) and migrate as
   * the owner, which grants this role its rights (docs/decisions/011-database-roles.md).
   */
  readonly appUrl: string;
  /** Drops the database, ending any connection still open to it (as the server's admin). */
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named database for one test file, owned by the owner role, the app role
 * able to connect (both roles are made on first use, as a fresh machine's first start makes
 * them); drop it in afterAll.
 */
export async function createTestDatabase(prefix = 'tl_test'): Promise<TestDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix))
    throw new Error(`database prefix "${prefix}" must be [a-z_][a-z0-9_]*`);
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const server = testDatabaseServerUrl();
  const ownerUrl = connectionAs(`${server}/${name}`, { user: DEFAULT_OWNER_ROLE });
  const appUrl = connectionAs(`${server}/${name}`, { user: DEFAULT_APP_ROLE });
  await bootstrapDatabase({ owner: ownerUrl, app: appUrl, admin: `${server}/postgres` });
  return { url: ownerUrl, ownerUrl, appUrl, drop: () => dropDatabase(`${server}/${name}`) };
}

export interface WaitForOptions {
  /** Give up after this many milliseconds. Default 30000. */
  readonly timeoutMs?: number;
  /** Milliseconds between checks. Default 25. */
  readonly intervalMs?: number;
  /** Says what was awaited when it times out. */
  readonly message?: string;
}

/** Polls a condition until it holds; on timeout throws, with the condition's last error as cause. */
export async function waitFor(
  condition: () => Promise<boolean> | boolean,
  { timeoutMs = 30000, intervalMs = 25, message = 'condition' }: WaitForOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await condition()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Each index of `schema`.`table` as pg_get_indexdef gives it from `USING` on (the same on any schema's copy), sorted. */
export async function indexDefinitions(
  db: Pick<Pool, 'query'>,
  schema: string,
  table: string,
): Promise<string[]> {
  const { rows } = await db.query<{ definition: string }>(
    `SELECT substring(indexdef FROM ' USING .*$') AS definition
       FROM pg_indexes WHERE schemaname = $1 AND tablename = $2`,
    [schema, table],
  );
  return rows.map((row) => row.definition).sort();
}
