import { userInfo } from 'node:os';

// The database roles' names and connection strings, apart from pg so that config.ts can use them
// (docs/decisions/011-database-roles.md; the roles themselves: database-roles.ts).

export const DEFAULT_OWNER_ROLE = 'throughline_owner';
export const DEFAULT_APP_ROLE = 'throughline_app';
/** The superuser of a fresh PostgreSQL, whose `postgres` database the admin connection opens. */
export const DEFAULT_ADMIN_ROLE = 'postgres';

/** The role a connection string logs in as: its user, else the one pg falls back to (PGUSER, USER). */
export function roleOf(connectionString: string): string {
  const user = decodeURIComponent(new URL(connectionString).username);
  return user || process.env.PGUSER || process.env.USER || userInfo().username;
}

/** The database a connection string names. */
export function databaseOf(connectionString: string): string {
  return decodeURIComponent(new URL(connectionString).pathname.replace(/^\//, ''));
}

/**
 * The same server (host, port, query options) as `connectionString`, as another user, without
 * its password, and/or on another database: how the owner and admin URLs default from DATABASE_URL.
 */
export function connectionAs(connectionString: string, as: { user?: string; database?: string }): string {
  const url = new URL(connectionString);
  if (as.user !== undefined) {
    url.username = encodeURIComponent(as.user);
    url.password = '';
  }
  if (as.database !== undefined) url.pathname = `/${encodeURIComponent(as.database)}`;
  return url.toString();
}
