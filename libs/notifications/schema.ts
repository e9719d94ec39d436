import type { Pool } from 'pg';
import { migrate, migrationsDirectory, readGrants, readMigrations } from '@throughline/platform';

/** The folder holding this context's migrations, from source (jest) and from dist/ alike. */
export function notificationsMigrationsDirectory(): string {
  return migrationsDirectory('notifications');
}

/**
 * The outbox (written by the projection's read path), the received notifications and the
 * record of their listings; then, when the owner migrates for the app role, grants.sql. Applied
 * by both apps that use them (the same database by default).
 */
export async function migrateNotifications(
  pool: Pool,
  options: { appRole?: string } = {},
): Promise<number[]> {
  const directory = notificationsMigrationsDirectory();
  return migrate(pool, 'notifications', readMigrations(directory), {
    appRole: options.appRole,
    grants: readGrants(directory),
  });
}
