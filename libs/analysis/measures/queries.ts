import type { Pool } from 'pg';
import { ValidationError } from '@throughline/platform';
import type {
  AnalysisQuery,
  AnalysisReads,
  Cohort,
  GroupBy,
  MeasureDefinition,
  RawCell,
  RawResult,
} from '../types';
import { ANALYSIS_PROJECTION } from '../model/projector';
import { MEASURE_BY_ID, MEASURES } from './catalogue';
import { UNITS_CHILD_COLUMN, UNITS_SQL } from './units';

/** The SQL of each dimension over a unit `u` and its child `c`; unknowns are named, never null. */
const DIMENSION_SQL: Readonly<Record<GroupBy, string>> = {
  period: 'analysis_period($1, u.period_day)',
  'age-band': 'analysis_age_band(c.birth_month, u.unit_day)',
  sex: "COALESCE(c.sex, 'unknown')",
  'ethnicity-group': "COALESCE(c.ethnicity_group, 'unknown')",
  'sen-status': "COALESCE(c.sen_status, 'unknown')",
  'local-authority': "COALESCE(u.local_authority, c.local_authority, 'unknown')",
  agency: "COALESCE(u.agency, 'unknown')",
  perspective: "COALESCE(u.perspective, 'unknown')",
  'relative-term': 'u.relative_term::text',
};

/** Memory for a measure's sorts and hashes (the cohort, its units and their groups at 10⁵ children). */
const MEASURE_WORK_MEM = '64MB';

/**
 * The cost of a page read out of order, as on solid-state disks and a model held in memory. At the
 * default 4 the planner hashed all 1.3 M attendance facts to join the 6,000 children with a CP
 * plan (2.8 s at 10⁵ children) rather than probing each child's facts by index (1.4 s).
 */
const MEASURE_RANDOM_PAGE_COST = '1.1';

/** Query parameters, numbered as they are added ($1 is always the period). */
class Parameters {
  readonly values: unknown[];
  constructor(period: string) {
    this.values = [period];
  }
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The cohort's children: entry events (types, dates, agencies) and characteristics. */
function cohortSql(cohort: Cohort, params: Parameters): { sql: string; ageAtUnit?: string } {
  // $1 (the period) is named in every statement, so each statement binds the same parameters.
  const where: string[] = ['$1::text IS NOT NULL'];
  let entryJoin = '';
  if (cohort.entry) {
    const conditions = [`event_type = ANY(${params.add(cohort.entry.eventTypes)}::text[])`];
    if (cohort.entry.from) conditions.push(`on_day >= ${params.add(cohort.entry.from)}::date`);
    if (cohort.entry.to) conditions.push(`on_day <= ${params.add(cohort.entry.to)}::date`);
    if (cohort.entry.agencies) conditions.push(`agency = ANY(${params.add(cohort.entry.agencies)}::text[])`);
    entryJoin = `JOIN (SELECT pseudonym, min(on_day) AS entry_day FROM analysis_facts
                       WHERE ${conditions.join(' AND ')} GROUP BY pseudonym) e ON e.pseudonym = c.pseudonym`;
  }
  const within = (column: string, values: readonly string[] | undefined) => {
    if (values) where.push(`${column} = ANY(${params.add(values)}::text[])`);
  };
  within("COALESCE(c.sex, 'unknown')", cohort.sex);
  within("COALESCE(c.ethnicity_group, 'unknown')", cohort.ethnicityGroups);
  within("COALESCE(c.sen_status, 'unknown')", cohort.senStatus);
  within('c.local_authority', cohort.localAuthorities);
  // Age bands: at the entry event when the cohort has one, else at each unit's own day.
  let ageAtUnit: string | undefined;
  if (cohort.ageBands) {
    const bands = params.add(cohort.ageBands);
    if (cohort.entry) where.push(`analysis_age_band(c.birth_month, e.entry_day) = ANY(${bands}::text[])`);
    else ageAtUnit = `analysis_age_band(c.birth_month, u.unit_day) = ANY(${bands}::text[])`;
  }
  const sql = `SELECT c.* FROM analysis_children c ${entryJoin} WHERE ${where.join(' AND ')}`;
  return { sql, ...(ageAtUnit ? { ageAtUnit } : {}) };
}

function refuse(path: string, rule: string, message: string): never {
  throw new ValidationError(message, [{ path, rule, message }]);
}

/**
 * The analysis read side (AnalysisReads): each measure one set-based statement over the
 * pseudonymised model, exact cells out (disclosure control is applied after, never here).
 */
export class AnalysisQueries implements AnalysisReads {
  constructor(
    private readonly pool: Pool,
    private readonly projection = ANALYSIS_PROJECTION,
  ) {}

  catalogue(): readonly MeasureDefinition[] {
    return MEASURES;
  }

  /** The measure, checked against what it offers; relative-term measures always group by it. */
  plan(query: AnalysisQuery): { measure: MeasureDefinition; groupBy: GroupBy[] } {
    const measure = MEASURE_BY_ID.get(query.measure);
    if (!measure)
      refuse(
        'measure',
        'known-measure',
        `measure: "${query.measure}" is not in the catalogue (GET /v1/analysis/measures)`,
      );
    if (new Set(query.groupBy).size !== query.groupBy.length)
      refuse('groupBy', 'unique-items', 'groupBy: each dimension once');
    for (const [index, dimension] of query.groupBy.entries()) {
      if (!measure.groupBy.includes(dimension))
        refuse(
          `groupBy.${index}`,
          'offered-by-measure',
          `groupBy: ${measure.id} is not grouped by ${dimension} (it offers ${measure.groupBy.join(', ')})`,
        );
    }
    if (!measure.periods.includes(query.period))
      refuse('period', 'offered-by-measure', `period: ${measure.id} offers ${measure.periods.join(', ')}`);
    const aligned = measure.groupBy.includes('relative-term') && !query.groupBy.includes('relative-term');
    if (aligned && query.groupBy.length >= 2)
      refuse(
        'groupBy',
        'room-for-relative-term',
        `groupBy: ${measure.id} is always by relative-term, so one other dimension at most`,
      );
    return { measure, groupBy: aligned ? ['relative-term', ...query.groupBy] : [...query.groupBy] };
  }

  async run(query: AnalysisQuery): Promise<RawResult> {
    const { measure, groupBy } = this.plan(query);
    const params = new Parameters(query.period);
    const cohort = cohortSql(query.cohort, params);
    const child = UNITS_CHILD_COLUMN[measure.id];
    const dimensions = groupBy.map((dimension) => DIMENSION_SQL[dimension]);
    const keys = dimensions.map((_, i) => `d${i}`);
    // Two steps: each child's units per cell first (one row per child and cell), then the cells
    // and, as the empty grouping set, the whole population, so the units are computed once and
    // children are counted over rows per child, not per unit (a measure with 10⁶ units sorted
    // them all for count(DISTINCT)). Without a grouping a child is one row; with one, the
    // population's children are the distinct children of those rows, counted once by hashing.
    const grouped = keys.length ? `GROUP BY GROUPING SETS ((${keys.join(', ')}), ())` : '';
    const total = keys.length ? `GROUPING(${keys.join(', ')}) > 0` : 'true';
    const children = keys.length
      ? `CASE WHEN ${total} THEN (SELECT count(*) FROM (SELECT ${child} FROM per_child GROUP BY ${child}) p)
              ELSE count(*) END`
      : 'count(*)';
    // The cohort is computed once when the units read it as well as the count; when only the
    // count joins it (the ratings), it is inlined, so PostgreSQL may scan and join in parallel
    // (a materialised CTE keeps the whole statement on one core): 1.3 M ratings at 175,000
    // children went from 1.7–2.4 s to about 1 s.
    const materialised = /\b(FROM|JOIN) cohort\b/.test(UNITS_SQL[measure.id])
      ? 'MATERIALIZED'
      : 'NOT MATERIALIZED';
    const sql = `
      WITH cohort AS ${materialised} (${cohort.sql}),
      units AS NOT MATERIALIZED (${UNITS_SQL[measure.id]}),
      per_child AS (
        SELECT ${[...dimensions.map((d, i) => `${d} AS d${i}`), ''].join(', ')}
               u.${child}, count(*) AS n, count(*) FILTER (WHERE u.hit) AS hits,
               sum(u.value) AS total_value, count(u.value) AS valued
        FROM units u JOIN cohort c USING (${child})
        ${cohort.ageAtUnit ? `WHERE ${cohort.ageAtUnit}` : ''}
        -- The child first: the units come joined in child order, so the groups need only an
        -- incremental sort (the other order sorted 10⁶ ratings again, on disk).
        GROUP BY ${[`u.${child}`, ...keys].join(', ')}
      )
      SELECT ${[...keys, ''].join(', ')}
             ${total} AS total,
             sum(n)::int AS count, sum(hits)::int AS numerator,
             (sum(total_value) / NULLIF(sum(valued), 0))::float AS mean,
             (${children})::int AS children
      FROM per_child
      ${grouped}
      ORDER BY ${keys.length ? keys.map((_, i) => i + 1).join(', ') : '1'}`;
    const result = await this.query(sql, params.values);
    const totalRow = result.rows.find((row) => row.total === true);
    // With no units at all, the grouped query has no rows (and the ungrouped one a row of count 0).
    const cohortSize = Number(totalRow?.children ?? 0);
    const rows = {
      rows: result.rows.filter((row) => (dimensions.length ? row.total !== true : Number(row.count) > 0)),
    };
    const cells: RawCell[] = rows.rows.map((row) => {
      const key = Object.fromEntries(groupBy.map((dimension, i) => [dimension, String(row[`d${i}`])]));
      const count = Number(row.count);
      const children = Number(row.children);
      switch (measure.unit) {
        case 'proportion':
          return { key, count, numerator: Number(row.numerator), children };
        case 'mean-days':
        case 'median-days':
        case 'mean-rating':
          return { key, count, value: Number(row.mean), children };
        case 'count':
          return { key, count, children };
      }
    });
    return {
      measure: measure.id,
      unit: measure.unit,
      groupBy,
      period: query.period,
      cohortSize,
      // A child counts in many terms around their aligning event: cells do not add up to children.
      additive: !groupBy.includes('relative-term'),
      cells,
    };
  }

  /**
   * One read-only transaction per measure with settings of its own: no JIT (a measure's cost
   * estimates over the materialised cohort run to millions of rows, which made PostgreSQL spend
   * 2–3 s compiling a query that runs in less), sorts and hashes in memory rather than on disk,
   * and index probes costed as the disk has them.
   */
  private async query(sql: string, values: unknown[]) {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(
        "SELECT set_config('jit', 'off', true), set_config('work_mem', $1, true), set_config('random_page_cost', $2, true)",
        [MEASURE_WORK_MEM, MEASURE_RANDOM_PAGE_COST],
      );
      const result = await client.query<Record<string, string | number | boolean | null>>(sql, values);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async position(): Promise<number> {
    const result = await this.pool.query<{ position: string }>(
      'SELECT position FROM analysis_checkpoints WHERE name = $1',
      [this.projection],
    );
    return Number(result.rows[0]?.position ?? 0);
  }
}
