import { Client, escapeIdentifier, escapeLiteral, type ClientBase, type Pool } from 'pg';
import type { Config } from './config';
import { ThroughlineError } from './errors';
import { connectionAs, databaseOf, roleOf } from './database-urls';
import { createPool, type CreatePoolOptions, type MigrateOptions } from './postgres';

/**
 * Two database roles (docs/decisions/011-database-roles.md). The apps connect as the app role
 * (DATABASE_URL): it reads and writes rows and nothing more. No UPDATE, DELETE or TRUNCATE on the
 * event store and the audit tables, no DDL anywhere, so an app (or whoever takes one over) cannot
 * rewrite the record. Migrations run as the owner role (DATABASE_OWNER_URL), which owns the
 * database and every table and grants the app role what each context's `grants.sql` says.
 * An admin connection (DATABASE_ADMIN_URL) is used only when a role or the database is missing.
 */
export interface DatabaseConnections {
  /** DATABASE_URL: the apps' role, rows only. */
  readonly app: string;
  /** DATABASE_OWNER_URL: owns the database and its tables; migrations and grants. */
  readonly owner: string;
  /** DATABASE_ADMIN_URL: creates the roles and the database when they are missing, nothing else. */
  readonly admin: string;
}

/** The connection strings a config names (see libs/platform/config.ts for the defaults). */
export function databaseConnections(config: {
  readonly DATABASE_URL: string;
  readonly DATABASE_OWNER_URL: string;
  readonly DATABASE_ADMIN_URL: string;
}): DatabaseConnections {
  return { app: config.DATABASE_URL, owner: config.DATABASE_OWNER_URL, admin: config.DATABASE_ADMIN_URL };
}

function passwordOf(connectionString: string): string | undefined {
  const password = decodeURIComponent(new URL(connectionString).password);
  return password || undefined;
}

async function withClient<T>(connectionString: string, work: (client: ClientBase) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString });
  // A server going away mid-bootstrap fails the query; the 'error' event must not crash the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** SQLSTATEs of a missing role (28000 invalid_authorization_specification) or database (3D000). */
const MISSING = new Set(['28000', '3D000']);

interface DatabaseState {
  /** The owner role exists, can log in, and the database exists. */
  readonly reachable: boolean;
  readonly appRoleExists: boolean;
  readonly ownsDatabase: boolean;
  /** Tables, sequences and functions in `public` some other role owns (a database from before 011); extensions' own are left alone. */
  readonly foreignObjects: number;
}

const NOTHING_READY: DatabaseState = {
  reachable: false,
  appRoleExists: false,
  ownsDatabase: false,
  foreignObjects: 0,
};

/** What the owner sees: whether anything needs the admin connection. */
async function inspect(connections: DatabaseConnections): Promise<DatabaseState> {
  try {
    return await withClient(connections.owner, async (client) => {
      const { rows } = await client.query<{ app: boolean; owns: boolean; foreign: string }>(
        `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS app,
                (SELECT datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                   FROM pg_database WHERE datname = current_database()) AS owns,
                ((SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
                     AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
                     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'))
                 + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname = 'public'
                     AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
                     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')))::text AS foreign`,
        [roleOf(connections.app)],
      );
      const [row] = rows;
      return {
        reachable: true,
        appRoleExists: row.app,
        ownsDatabase: row.owns,
        foreignObjects: Number(row.foreign),
      };
    });
  } catch (error) {
    if (MISSING.has((error as { code?: string }).code ?? '')) return NOTHING_READY;
    throw error;
  }
}

/** CREATE ROLE … LOGIN unless it exists; a concurrent creation by another process is fine. */
async function createLoginRole(
  client: ClientBase,
  role: string,
  password: string | undefined,
): Promise<boolean> {
  const found = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (found.rowCount !== 0) return false;
  // NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS are the defaults; said anyway.
  const sql =
    `CREATE ROLE ${escapeIdentifier(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS` +
    (password ? ` PASSWORD ${escapeLiteral(password)}` : '');
  return client.query(sql).then(
    () => true,
    (error: { code?: string }) => {
      // 42710 duplicate_object, or 23505 on the catalog's unique index when two create it at once.
      if (error.code === '42710' || error.code === '23505') return false;
      throw error;
    },
  );
}

/** Hands every table, sequence and function in `public` that another role owns to the owner. */
async function adoptObjects(client: ClientBase, owner: string): Promise<number> {
  // Tables first; a sequence owned by a column (serial, identity) moves with its table.
  const { rows } = await client.query<{ statement: string }>(
    `SELECT statement FROM (
       SELECT format('ALTER %s %s OWNER TO %I',
                     CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                    WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                     c.oid::regclass, $1::text) AS statement,
              CASE WHEN c.relkind = 'S' THEN 1 ELSE 0 END AS rank
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
          AND NOT (c.relkind = 'S' AND EXISTS (
            SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
              AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
       UNION ALL
       SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, $1::text), 2
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
     ) AS todo ORDER BY rank`,
    [owner],
  );
  for (const { statement } of rows) await client.query(statement);
  return rows.length;
}

export interface BootstrapOptions {
  /**
   * Refuse an app role that could rewrite the record anyway: a superuser, one that can create
   * roles, or one that acts as the owner. Production sets it; tests may run the apps as the owner.
   */
  readonly requireLimitedAppRole?: boolean;
  /** Told what was created or changed (nothing when all was in place). */
  readonly log?: (line: string) => void;
}

/**
 * Makes sure the owner and app roles and the database exist, the database and everything in its
 * `public` schema owned by the owner, the app role able to connect, and nobody but the owner able
 * to create objects in `public`. Idempotent; it opens DATABASE_ADMIN_URL only when something is
 * missing (a fresh PostgreSQL, a database made before these roles), so a deployment whose DBA
 * made the roles and the database never needs an admin URL. Passwords in the URLs are given to
 * roles it creates (never changed on roles that exist).
 */
export async function bootstrapDatabase(
  connections: DatabaseConnections,
  options: BootstrapOptions = {},
): Promise<void> {
  const owner = roleOf(connections.owner);
  const app = roleOf(connections.app);
  const database = databaseOf(connections.owner);
  if (databaseOf(connections.app) !== database)
    throw new ThroughlineError(
      'CONFIGURATION',
      `DATABASE_URL names database "${databaseOf(connections.app)}" but DATABASE_OWNER_URL "${database}": they must name the same one`,
    );
  if (!/^[A-Za-z0-9_]+$/.test(database))
    throw new ThroughlineError('CONFIGURATION', `database name "${database}" must be [A-Za-z0-9_]+`);
  const state = await inspect(connections);
  if (!(state.reachable && state.appRoleExists && state.ownsDatabase && state.foreignObjects === 0)) {
    await withAdmin(connections, owner, app, database, options.log ?? (() => undefined));
  }
  if (options.requireLimitedAppRole) await refuseOverprivilegedApp(connections.owner, owner, app);
}

async function withAdmin(
  connections: DatabaseConnections,
  owner: string,
  app: string,
  database: string,
  log: (line: string) => void,
): Promise<void> {
  const server = connectionAs(connections.admin, { database: 'postgres' });
  try {
    await withClient(server, async (admin) => {
      // One bootstrap at a time per server (advisory locks are per database: every one takes it in `postgres`).
      await admin.query('SELECT pg_advisory_lock(hashtext($1))', ['throughline.bootstrap']);
      for (const [role, url] of [
        [owner, connections.owner],
        [app, connections.app],
      ] as const) {
        if (await createLoginRole(admin, role, passwordOf(url))) log(`created database role ${role}`);
      }
      const found = await admin.query<{ owner: string }>(
        'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1',
        [database],
      );
      if (found.rowCount === 0) {
        await admin.query(`CREATE DATABASE ${escapeIdentifier(database)} OWNER ${escapeIdentifier(owner)}`);
        log(`created database ${database}, owned by ${owner}`);
      } else if (found.rows[0].owner !== owner) {
        await admin.query(`ALTER DATABASE ${escapeIdentifier(database)} OWNER TO ${escapeIdentifier(owner)}`);
        log(`database ${database} now owned by ${owner} (was ${found.rows[0].owner})`);
      }
      await admin.query(
        `GRANT CONNECT ON DATABASE ${escapeIdentifier(database)} TO ${escapeIdentifier(app)}`,
      );
      await withClient(connectionAs(connections.admin, { database }), async (inside) => {
        await inside.query(`ALTER SCHEMA public OWNER TO ${escapeIdentifier(owner)}`);
        // PostgreSQL 15 no longer lets PUBLIC create in `public`; older servers did.
        await inside.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
        const adopted = await adoptObjects(inside, owner);
        if (adopted > 0)
          log(`${adopted} tables, sequences and functions in ${database} now owned by ${owner}`);
      });
    });
  } catch (error) {
    throw new ThroughlineError(
      'CONFIGURATION',
      `database roles ${owner} (owner) and ${app} (app) or database ${database} are missing or not set up, ` +
        `and DATABASE_ADMIN_URL (as ${roleOf(connections.admin)}) could not set them up: ${(error as Error).message}. ` +
        'Create them as docs/decisions/011-database-roles.md says, or give an admin URL.',
      { cause: error },
    );
  }
}

async function refuseOverprivilegedApp(ownerUrl: string, owner: string, app: string): Promise<void> {
  const problems = await withClient(ownerUrl, async (client) => {
    const { rows } = await client.query<{ superuser: boolean; createrole: boolean; owner: boolean }>(
      `SELECT a.rolsuper AS superuser, a.rolcreaterole AS createrole,
              pg_has_role(a.oid, o.oid, 'USAGE') AS owner
         FROM pg_roles a, pg_roles o WHERE a.rolname = $1 AND o.rolname = $2`,
      [app, owner],
    );
    const [row] = rows;
    return [
      row.superuser && 'is a superuser',
      row.createrole && 'can create roles (and so grant itself the owner role)',
      row.owner && `is, or inherits the privileges of, the owner role ${owner}`,
    ].filter((problem): problem is string => typeof problem === 'string');
  });
  if (problems.length > 0)
    throw new ThroughlineError(
      'CONFIGURATION',
      `DATABASE_URL: the app role ${app} ${problems.join(', ')}; it must only read and write rows ` +
        '(docs/decisions/011-database-roles.md)',
    );
}

/**
 * Runs migrations as the owner: `work` gets a pool of one connection to DATABASE_OWNER_URL and the
 * options that make each context's migrate grant the app role (DATABASE_URL's user) its rights.
 * When the two URLs are one (a single-role setup), it runs on that role and grants nothing.
 */
export async function migrateAsOwner<T>(
  connections: { readonly app: string; readonly owner?: string },
  work: (owner: Pool, options: MigrateOptions) => Promise<T>,
  poolOptions: CreatePoolOptions = {},
): Promise<T> {
  const separate = connections.owner !== undefined && connections.owner !== connections.app;
  const pool = createPool(separate ? connections.owner! : connections.app, { ...poolOptions, max: 1 });
  try {
    return await work(pool, separate ? { appRole: roleOf(connections.app) } : {});
  } finally {
    await pool.end();
  }
}

/**
 * bootstrapDatabase for a config, before an app touches its database. Outside development it
 * refuses an app role that could rewrite the record (a superuser, the owner, a role creator).
 */
export async function prepareDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATABASE_OWNER_URL' | 'DATABASE_ADMIN_URL' | 'THROUGHLINE_MODE'>,
  log?: (line: string) => void,
): Promise<DatabaseConnections> {
  const connections = databaseConnections(config);
  await bootstrapDatabase(connections, {
    requireLimitedAppRole: config.THROUGHLINE_MODE !== 'development',
    log,
  });
  return connections;
}
