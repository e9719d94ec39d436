import type { ClientBase, Pool } from 'pg';
import { checkpointTable, type RebuildableReadModel } from '@throughline/event-store';
import {
  migrate,
  migrationsDirectory,
  readGrants,
  readMigrations,
  type MigrateOptions,
} from '@throughline/platform';
import type { AnalysisBatchResult } from './apply-batch';

/** Applies the analysis migrations on `pool` (the owner's) and grants the apps' role what grants.sql says (decision 011). */
export async function migrateAnalysis(pool: Pool, options: MigrateOptions = {}): Promise<number[]> {
  return migrate(pool, 'analysis', readMigrations(migrationsDirectory('analysis')), options);
}

/** Every table a rebuild recreates from the store. */
export const ANALYSIS_MODEL_TABLES = [
  'analysis_records',
  'analysis_links',
  'analysis_children',
  'analysis_facts',
  'analysis_ratings',
  'analysis_skipped_events',
] as const;

/** The analysis model's checkpoint rows, with the count of events it skipped. */
export const ANALYSIS_CHECKPOINTS = checkpointTable<AnalysisBatchResult>('analysis_checkpoints', {
  skipped_events: (result) => result.skipped,
});

/**
 * The analysis model as a blue-green read model (decision 023); the query log is not rebuildable
 * and stays in public.
 */
export function analysisReadModel(projection: string): RebuildableReadModel {
  return {
    name: 'analysis',
    tables: [...ANALYSIS_MODEL_TABLES, 'analysis_checkpoints'],
    checkpoint: { table: 'analysis_checkpoints', row: projection },
    grants: readGrants(migrationsDirectory('analysis')),
    // The facts' indexes serve the measures; the projector finds a merged record's facts by record_ref.
    indexesAfterCatchUp: [{ table: 'analysis_facts', runnerUses: ['record_ref'] }],
  };
}

/** Empties the analysis model, inside the caller's transaction (a rebuild). */
export async function truncateAnalysisModel(client: ClientBase): Promise<void> {
  await client.query(`TRUNCATE ${ANALYSIS_MODEL_TABLES.join(', ')}`);
}
