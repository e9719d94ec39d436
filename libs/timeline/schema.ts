import type { ClientBase, Pool } from 'pg';
import { checkpointTable, type RebuildableReadModel } from '@throughline/event-store';
import {
  migrate,
  migrationsDirectory,
  readGrants,
  readMigrations,
  type MigrateOptions,
  withTransaction,
} from '@throughline/platform';
import type { BatchResult } from './apply-batch';

/** The folder holding this context's migrations, from source (jest) and from dist/ alike. */
export function timelineMigrationsDirectory(): string {
  return migrationsDirectory('timeline');
}

/**
 * Applies the timeline migrations on `pool` (the owner's) and, given the apps' role, grants it
 * what migrations/grants.sql says (docs/decisions/011-database-roles.md).
 */
export async function migrateTimeline(pool: Pool, options: MigrateOptions = {}): Promise<number[]> {
  return migrate(pool, 'timeline', readMigrations(timelineMigrationsDirectory()), options);
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

/** The projection's checkpoint rows, with the count of events it skipped. */
export const PROJECTION_CHECKPOINTS = checkpointTable<BatchResult>('projection_checkpoints', {
  skipped_events: (result) => result.skipped.length,
});

/**
 * The timeline as a blue-green read model (decision 023): its tables and checkpoint move to a new
 * generation's schema on `npm run projection -- rebuild timeline`; the access log stays in public.
 */
export function timelineReadModel(projection: string): RebuildableReadModel {
  return {
    name: 'timeline',
    tables: [...READ_MODEL_TABLES, 'projection_checkpoints'],
    checkpoint: { table: 'projection_checkpoints', row: projection },
    grants: readGrants(timelineMigrationsDirectory()),
    // The projector only appends entries (COPY): their indexes by record and by decision serve the reads.
    indexesAfterCatchUp: [{ table: 'timeline_entries', runnerUses: [] }],
  };
}

/** Empties the read models, inside the caller's transaction. */
export async function truncateTimelineReadModels(client: ClientBase): Promise<void> {
  await client.query(`TRUNCATE ${READ_MODEL_TABLES.join(', ')}`);
}

/**
 * Empties the read models and resets the projection's checkpoint, in one transaction, so
 * the next run replays the whole store. The projector must not be running.
 */
export async function resetTimelineReadModels(pool: Pool, projection: string): Promise<void> {
  await withTransaction(pool, async (client) => {
    await truncateTimelineReadModels(client);
    await PROJECTION_CHECKPOINTS.reset(client, projection);
  });
}
