import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Pool, escapeIdentifier, type ClientBase, type PoolClient, type PoolConfig } from 'pg';
import { migrationsDirectory } from './paths';

export interface CreatePoolOptions extends Omit<PoolConfig, 'connectionString'> {
  /**
   * Run on a client each time the pool hands it out, before the caller's first query: a setting
   * that may change while the pool lives, such as the read models' search_path (decision 023).
   * When it fails the client is discarded and the caller gets the error.
   */
  readonly onCheckout?: (client: PoolClient) => Promise<void>;
}

type ConnectCallback = (
  err: Error | undefined,
  client: PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

/** A pool that runs onCheckout on every client it hands out, pool.query's included (it connects through connect()). */
class CheckoutPool extends Pool {
  constructor(
    config: PoolConfig,
    private readonly onCheckout: (client: PoolClient) => Promise<void>,
  ) {
    super(config);
  }

  override connect(): Promise<PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<PoolClient> | void {
    const ready = super.connect().then(async (client) => {
      try {
        await this.onCheckout(client);
      } catch (error) {
        client.release(true);
        throw error;
      }
      return client;
    });
    if (!callback) return ready;
    void ready.then(
      (client) =>
        callback(undefined, client, (release) => client.release(release as boolean | Error | undefined)),
      (error: Error) => callback(error, undefined, () => undefined),
    );
  }
}

export function createPool(connectionString: string, options: CreatePoolOptions = {}): Pool {
  const { onCheckout, ...config } = options;
  const settings = { connectionString, max: 10, ...config };
  const pool = onCheckout ? new CheckoutPool(settings, onCheckout) : new Pool(settings);
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  // Nor a checked-out one: when the server goes away (restart, crash, 57P01 admin_shutdown) a
  // client emits 'error' besides failing its query, and pg-pool listens only while it is idle.
  // The failed query reports the error; release() then drops the client, which is no longer queryable.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Clients whose connection may be mid-protocol or dead: destroyed on release, never reused. */
const brokenClients = new WeakSet<ClientBase>();

/** Marks a client as unusable (a COPY that failed half-way): withTransaction then neither rolls back nor reuses it. */
export function markClientBroken(client: ClientBase): void {
  brokenClients.add(client);
}

/** Returns a client to its pool, or destroys it if it was marked broken. */
export function releaseClient(client: PoolClient): void {
  client.release(brokenClients.has(client));
}

/**
 * Settings for one transaction only (`SET LOCAL`), sent with its BEGIN in one round trip. Names
 * and values come from the code, never from a request: both are checked to be plain words.
 */
export type TransactionSettings = Readonly<Record<string, string>>;

const SETTING_NAME = /^[a-z][a-z0-9_.]*$/;
const SETTING_VALUE = /^[A-Za-z0-9_.]+$/;

/** `BEGIN`, then a `SET LOCAL` for each setting, as one simple-protocol query (one round trip). */
export function beginStatement(settings: TransactionSettings = {}): string {
  const sets = Object.entries(settings).map(([name, value]) => {
    if (!SETTING_NAME.test(name)) throw new Error(`transaction setting name "${name}" must be a plain word`);
    if (!SETTING_VALUE.test(value))
      throw new Error(`transaction setting ${name} value "${value}" must be a plain word`);
    return `SET LOCAL ${name} = '${value}'`;
  });
  return ['BEGIN', ...sets].join('; ');
}

/**
 * Runs `work` between BEGIN and COMMIT on a client the caller holds. On failure it rolls back
 * and rethrows; a client marked broken is not rolled back, and one whose ROLLBACK fails is
 * marked broken, so releaseClient discards it rather than hand a bad connection to the pool.
 * `settings` hold for the transaction only and cost no round trip of their own.
 */
export async function inTransaction<T>(
  client: ClientBase,
  work: (client: ClientBase) => Promise<T>,
  settings?: TransactionSettings,
): Promise<T> {
  try {
    await client.query(beginStatement(settings));
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    if (!brokenClients.has(client)) await client.query('ROLLBACK').catch(() => brokenClients.add(client));
    throw error;
  }
}

/** A client from the pool, `work` in one transaction on it (see inTransaction), the client released. */
export async function withTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
  settings?: TransactionSettings,
): Promise<T> {
  const client = await pool.connect();
  try {
    return await inTransaction(client, () => work(client), settings);
  } finally {
    releaseClient(client);
  }
}

/** Creates the database named in the URL if it does not exist (connects to `postgres` to do so). */
export async function ensureDatabase(connectionString: string): Promise<void> {
  const url = new URL(connectionString);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`database name "${database}" must be [A-Za-z0-9_]+`);
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      await admin.query(`CREATE DATABASE "${database}"`).catch((error: { code?: string }) => {
        // Created concurrently by another app: 42P04 (duplicate database) or 23505 (catalog unique index).
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(connectionString: string): Promise<void> {
  const url = new URL(connectionString);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Reads `NNN_name.sql` files from a folder, in version order. */
export function readMigrations(directory: string): Migration[] {
  return readdirSync(directory)
    .filter((file) => /^\d{3}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 3)),
      name: file.slice(4, -4),
      sql: readFileSync(join(directory, file), 'utf8'),
    }));
}

/** The grants a context keeps beside its migrations (docs/decisions/011-database-roles.md). */
export const GRANTS_FILE = 'grants.sql';

/** A context's `grants.sql`, if it has one. */
export function readGrants(directory: string): string | undefined {
  const file = join(directory, GRANTS_FILE);
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

export interface MigrateOptions {
  /**
   * The apps' role (DATABASE_URL's user) when the owner role migrates: granted what `grants`
   * says after the migrations. Unset, or the migrating role itself: nothing is granted.
   */
  readonly appRole?: string;
  /**
   * The context's grants, `:"app_role"` standing for the app role as in psql: run after every
   * migrate, so they are exact whatever an earlier version granted. Default: the context's
   * `libs/<context>/migrations/grants.sql`, if any; without one the baseline stays.
   */
  readonly grants?: string;
}

/**
 * What the app role gets on every table and sequence before a context grants it more: SELECT and
 * INSERT on new tables (so a table no grants.sql names yet is append-only for the apps), USAGE on
 * sequences, never UPDATE on one (setval). `schema_migrations` is the owner's to write.
 */
async function grantBaseline(client: ClientBase, role: string): Promise<void> {
  await client.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
  await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT ON TABLES TO ${role}`);
  await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO ${role}`);
  // Sequences made before the default privileges (a database from before decision 011): serial ids.
  await client.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
  await client.query(`REVOKE ALL ON schema_migrations FROM ${role}`);
  await client.query(`GRANT SELECT ON schema_migrations TO ${role}`);
}

/**
 * Applies a bounded context's versioned migrations once each, under an advisory lock so
 * that several apps starting together migrate one at a time; then, when the owner migrates for
 * a separate app role, the context's grants, in one transaction (never a moment without them).
 */
export async function migrate(
  pool: Pool,
  context: string,
  migrations: readonly Migration[],
  options: MigrateOptions = {},
): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['throughline.migrations']);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      context text NOT NULL, version int NOT NULL, name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (context, version))`);
    const done = await client.query<{ version: number }>(
      'SELECT version FROM schema_migrations WHERE context = $1',
      [context],
    );
    const have = new Set(done.rows.map((row) => row.version));
    const grantee = await appRoleToGrant(client, options.appRole);
    // Before the migrations, so the tables they create get the baseline (default privileges).
    if (grantee) await inTransaction(client, () => grantBaseline(client, grantee));
    for (const migration of migrations) {
      if (have.has(migration.version)) continue;
      try {
        await inTransaction(client, async () => {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (context, version, name) VALUES ($1, $2, $3)', [
            context,
            migration.version,
            migration.name,
          ]);
        });
        applied.push(migration.version);
      } catch (error) {
        throw new Error(`migration ${context}/${migration.version}_${migration.name} failed`, {
          cause: error,
        });
      }
    }
    if (grantee) {
      try {
        await inTransaction(client, async () => {
          await grantBaseline(client, grantee);
          // A context's grants.sql is found by the migrations folder convention unless given.
          const grants = options.grants ?? readGrants(migrationsDirectory(context));
          if (grants) await client.query(grants.replaceAll(':"app_role"', grantee));
        });
      } catch (error) {
        throw new Error(`grants of ${context} to ${options.appRole} failed`, { cause: error });
      }
    }
  } finally {
    await client
      .query('SELECT pg_advisory_unlock(hashtext($1))', ['throughline.migrations'])
      .catch(() => undefined);
    releaseClient(client);
  }
  return applied;
}

/** The app role, quoted, when it is another role than the one migrating; else undefined. */
async function appRoleToGrant(client: ClientBase, appRole: string | undefined): Promise<string | undefined> {
  if (appRole === undefined) return undefined;
  const { rows } = await client.query<{ me: string }>('SELECT current_user AS me');
  return rows[0].me === appRole ? undefined : escapeIdentifier(appRole);
}
