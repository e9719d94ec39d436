import type { Pool } from 'pg';
import { migrate, migrationsDirectory, readMigrations } from '@throughline/platform';

/** The folder holding this context's migrations, from source (jest) and from dist/ alike. */
export function timelineMigrationsDirectory(): string {
  return migrationsDirectory('timeline');
}

export async function migrateTimeline(pool: Pool): Promise<number[]> {
  return migrate(pool, 'timeline', readMigrations(timelineMigrationsDirectory()));
}

/** Every table a rebuild recreates from the store. The access log is not one of them. */
export const READ_MODEL_TABLES = [
  'children',
  'subject_records',
  'subject_identifiers',
  'identity_links',
  'identity_history',
  'timeline_entries',
  'projection_skipped_events',
] as const;

/**
 * Empties the read models and resets the projection's checkpoint, in one transaction, so
 * the next run replays the whole store. The projector must not be running.
 */
export async function resetTimelineReadModels(pool: Pool, projection: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`TRUNCATE ${READ_MODEL_TABLES.join(', ')}`);
    await client.query(
      `INSERT INTO projection_checkpoints (name, position, skipped_events) VALUES ($1, 0, 0)
       ON CONFLICT (name) DO UPDATE SET position = 0, skipped_events = 0, updated_at = now()`,
      [projection],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
