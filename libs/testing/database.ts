import { randomBytes } from 'node:crypto';
import { dropDatabase, ensureDatabase } from '@throughline/platform';

const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432';

/**
 * The one place tests read the environment for infrastructure: TEST_DATABASE_BASE_URL, or
 * the server part of DATABASE_URL, or the local PostgreSQL. Returned without a database name.
 */
export function testDatabaseServerUrl(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.TEST_DATABASE_BASE_URL ?? env.DATABASE_URL;
  if (!configured) return LOCAL_POSTGRES;
  const url = new URL(configured);
  url.pathname = '';
  url.search = '';
  return url.toString().replace(/\/$/, '');
}

export interface TestDatabase {
  readonly url: string;
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>;
}

/** Creates a uniquely named database for one test file; drop it in afterAll. */
export async function createTestDatabase(prefix = 'tl_test'): Promise<TestDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix))
    throw new Error(`database prefix "${prefix}" must be [a-z_][a-z0-9_]*`);
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const url = `${testDatabaseServerUrl()}/${name}`;
  await ensureDatabase(url);
  return { url, drop: () => dropDatabase(url) };
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
