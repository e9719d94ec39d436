import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { withTransaction } from '@throughline/platform';
import { checkDifferencing } from '../disclosure/differencing';
import type { AnalysisQuery, Cohort } from '../types';

/** How an answer left: as JSON (a query) or as a file (an export). */
export type ReleasedAs = 'json' | 'csv' | 'parquet';

/** The value with object keys sorted and arrays of plain values sorted: equal definitions, equal text. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(canonical);
    return items.every((item) => typeof item !== 'object' || item === null)
      ? [...new Set(items.map((item) => JSON.stringify(item)))]
          .sort()
          .map((item) => JSON.parse(item) as unknown)
      : items;
  }
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, field]) => field !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, field]) => [key, canonical(field)]),
    );
  return value;
}

/** The cohort's fingerprint: the same definition, however its lists are ordered, has the same one. */
export function cohortFingerprint(cohort: Cohort): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(cohort)))
    .digest('hex');
}

/**
 * What each analyst has been answered, with the cohort's exact size (server side only), for the
 * differencing rule. An answer is admitted and recorded in one transaction under a lock per
 * analyst, so two queries sent at once cannot both slip past the rule.
 */
export class AnalysisQueryLog {
  constructor(private readonly pool: Pool) {}

  /**
   * Refuses (DisclosureRefusedError, rule `differencing`) a cohort whose exact size for this
   * measure differs from that of another cohort definition this analyst was answered for the same
   * measure by more than 0 and fewer than `threshold` children; otherwise records the release.
   * The size is the measure's population in the cohort (children with its units), so sizes of
   * different measures are not comparable and are not compared. The same definition asked again
   * is not compared with itself: its size moves only as the store grows, not as the analyst chooses.
   */
  async admit(
    analyst: string,
    query: AnalysisQuery,
    cohortSize: number,
    threshold: number,
    releasedAs: ReleasedAs,
  ): Promise<void> {
    const fingerprint = cohortFingerprint(query.cohort);
    await withTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`analysis-query-log:${analyst}`]);
      const earlier = await client.query<{ size: number }>(
        `SELECT DISTINCT cohort_size AS size FROM analysis_query_log
          WHERE analyst = $1 AND measure = $2 AND cohort_fingerprint <> $3
            AND cohort_size > $4::int - $5::int AND cohort_size < $4::int + $5::int`,
        [analyst, query.measure, fingerprint, cohortSize, threshold],
      );
      checkDifferencing(
        earlier.rows.map((row) => row.size),
        cohortSize,
        threshold,
      );
      await client.query(
        `INSERT INTO analysis_query_log (analyst, measure, cohort_fingerprint, cohort, cohort_size, released_as)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          analyst,
          query.measure,
          fingerprint,
          JSON.stringify(canonical(query.cohort)),
          cohortSize,
          releasedAs,
        ],
      );
    });
  }
}
