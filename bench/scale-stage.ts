import type { Pool } from 'pg';
import type { AgencyEvent } from '@throughline/contracts';
import { DEFAULT_LINKER_NAME } from '@throughline/identity';
import {
  AnalysisQueries,
  ANALYSIS_PROJECTION,
  controlResult,
  DisclosureRefusedError,
  MEASURES,
  type AnalysisQuery,
  type Cohort,
  type GroupBy,
  type MeasureDefinition,
} from '@throughline/analysis';
import type { AppProcess } from './app-process';
import { lookupChildKey, type ReaderHeaders } from './e2e-latency';
import { BUSY_CHILD_ENTRIES, measureOutcomeQueries } from './outcomes-query';
import {
  backlogRate,
  eventsUpTo,
  readModelCheckpoint,
  storeHeadPosition,
  waitForReadModelsAtHead,
  watchProgress,
  type BacklogRate,
  type ReadModelName,
} from './progress';
import type { Figure } from './report';
import { buildScaleStore, type ScaleStore } from './scale-store';
import { elapsedMs, percentile } from './stats';

/**
 * `BENCH_STAGES=scale` (issue 16 item 5, issue 15 "Speed and scale"): a store of
 * BENCH_SCALE_CHILDREN children built by COPY (./scale-store.ts), the read models rebuilt from it
 * by the projection app (timeline projector, identity linker and analysis model, each from an
 * empty state, as a rebuild after a new version does), then the reads on that store: a busy
 * child's timeline, lookups, outcomes and decisions over HTTP, every analysis measure in process
 * (run and disclosure control), and the bytes on disk per event.
 */

export const TIMELINE_GOAL_MS = 25;
export const LOOKUP_GOAL_MS = 10;
export const OUTCOMES_GOAL_MS = 50;
export const ANALYSIS_GOAL_MS = 2_000;
const LOOKUPS = 200;
const READS = 200;
const PROGRESS_POLL_MS = 250;

export interface ScaleStageContext {
  readonly ownerUrl: string;
  readonly pool: Pool;
  readonly children: number;
  readonly analysisRepetitions: number;
  /** Children the analysis measures are timed on: the model is replicated up to this if the store is smaller. */
  readonly analysisChildren: number;
  readonly projectionName: string;
  /** Starts the projection app on the stage's database (its read models empty). */
  readonly startProjection: () => Promise<AppProcess>;
  readonly reader: () => Promise<ReaderHeaders>;
  readonly rebuildTimeoutMs: number;
  readonly say: (message: string) => void;
}

/** The tables of each part, for bytes on disk; anything else is counted as `other`. */
function partOf(table: string): 'store' | 'identity' | 'analysis' | 'timeline' | 'other' {
  if (['events', 'streams', 'checkpoints', 'stream_metadata', 'stream_tombstones'].includes(table))
    return 'store';
  if (table === 'analysis_query_log') return 'other';
  if (table.startsWith('analysis_')) return 'analysis';
  if (
    table.startsWith('identity_linker') ||
    [
      'identity_subjects',
      'identity_subject_keys',
      'identity_pairs',
      'identity_proposals',
      'identity_conflicts',
      'identity_audit_log',
    ].includes(table)
  )
    return 'identity';
  if (
    [
      'projection_checkpoints',
      'projection_skipped_events',
      'children',
      'subject_records',
      'subject_identifiers',
      'identity_links',
      'identity_history',
      'timeline_entries',
    ].includes(table)
  )
    return 'timeline';
  return 'other';
}

interface Rebuilt {
  readonly name: string;
  readonly figure: string;
  readonly rate: BacklogRate;
  readonly doneMs: number;
}

/**
 * Replicates the analysis model's children, facts and ratings in SQL until it holds at least `target`
 * children (whole copies): the measures read only these three tables. Copy k's pseudonyms and
 * record refs get the suffix `~k`, its positions and child numbers move on by k × the largest.
 * Returns the children.
 */
export async function replicateAnalysisModel(
  pool: Pool,
  children: number,
  target: number,
  say: (message: string) => void,
): Promise<number> {
  const factor = Math.ceil(target / children);
  if (factor <= 1) {
    // The measures are planned from statistics; a rebuilt model has none until it is analysed
    // (autovacuum may be off, and is late on tables that grew from empty).
    await pool.query('VACUUM ANALYZE analysis_children, analysis_facts, analysis_ratings, analysis_records');
    return children;
  }
  const at = process.hrtime.bigint();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Positions and child numbers (positions too) move on by k × the largest of either, taken before
    // any copy is written.
    const largest = await client.query<{ top: string }>(
      `SELECT GREATEST((SELECT max(position) FROM analysis_facts), (SELECT max(child_number) FROM analysis_children)) AS top`,
    );
    const top = largest.rows[0].top;
    await client.query(
      `INSERT INTO analysis_ratings (position, child_number, on_day, agency, perspective, value)
       SELECT r.position + k * $2::bigint, r.child_number + k * $2::bigint, r.on_day, r.agency, r.perspective, r.value
       FROM analysis_ratings r CROSS JOIN generate_series(1, $1::int - 1) AS k`,
      [factor, top],
    );
    await client.query(
      `INSERT INTO analysis_children
         (pseudonym, child_number, birth_month, sex, ethnicity_group, sen_status, local_authority, postcode_district,
          agencies)
       SELECT c.pseudonym || '~' || k, c.child_number + k * $2::bigint, c.birth_month, c.sex, c.ethnicity_group,
              c.sen_status, c.local_authority, c.postcode_district, c.agencies
       FROM analysis_children c CROSS JOIN generate_series(1, $1::int - 1) AS k`,
      [factor, top],
    );
    await client.query(
      `INSERT INTO analysis_facts
       SELECT f.position + k * $2::bigint, f.record_ref || '~' || k, f.pseudonym || '~' || k, f.agency, f.event_type,
              f.on_day, f.start_day, f.end_day, f.code, f.framework, f.domain, f.scale, f.rating, f.scale_min,
              f.scale_max, f.academic_year, f.term, f.sessions_possible, f.sessions_missed, f.quantity,
              f.age_months, f.local_authority
       FROM analysis_facts f CROSS JOIN generate_series(1, $1::int - 1) AS k`,
      [factor, top],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
  await pool.query('VACUUM ANALYZE analysis_children, analysis_facts, analysis_ratings');
  const counted = await pool.query<{ children: string; facts: string }>(
    'SELECT (SELECT count(*) FROM analysis_children) AS children, (SELECT count(*) FROM analysis_facts) AS facts',
  );
  say(
    `  analysis model replicated ×${factor}: ${counted.rows[0].children} children, ${counted.rows[0].facts} facts ` +
      `in ${(elapsedMs(at) / 1000).toFixed(1)} s`,
  );
  return Number(counted.rows[0].children);
}

/** The variations of a measure's query: groupings, periods and cohorts in turn. */
export function analysisVariants(measure: MeasureDefinition, count: number): AnalysisQuery[] {
  const cohorts: Cohort[] = [
    {},
    { sex: ['female'] },
    { ageBands: ['5-9', '10-15'] },
    { entry: { eventTypes: ['social-care.referral.received'] } },
    { sex: ['male'], ageBands: ['1-4', '5-9', '10-15', '16-17'] },
  ];
  const groupings: GroupBy[][] = [[], ...measure.groupBy.map((dimension) => [dimension])];
  return Array.from({ length: count }, (_, index) => ({
    measure: measure.id,
    cohort: cohorts[index % cohorts.length],
    groupBy: groupings[index % groupings.length].filter((dimension) => dimension !== 'relative-term'),
    period: measure.periods[index % measure.periods.length],
  }));
}

export async function measureScaleStage(
  context: ScaleStageContext,
): Promise<{ figures: Figure[]; store: ScaleStore }> {
  const { pool, say } = context;
  const figures: Figure[] = [];

  say(`scale: building a store of ${context.children} children by COPY`);
  const store = await buildScaleStore(context.ownerUrl, pool, context.children, say);
  say(
    `  ${store.events} events, ${store.streams} streams of ${store.children} children in ${(store.copyMs / 1000).toFixed(1)} s ` +
      `(${Math.round(store.copyEventsPerSecond)} events/s, indexes maintained)`,
  );
  const copyFigure: Figure = {
    name: 'scale.store.copy_events_per_s',
    value: store.copyEventsPerSecond,
    unit: 'events/s',
    note:
      `${store.events} events (${store.copies} copies of a ${store.templateChildren}-child synthetic template of ` +
      `${store.templateEvents} events, fresh identifiers per copy) for ${store.children} children, ${store.streams} ` +
      `streams, by COPY into the store's own events and streams tables with their indexes, then ANALYZE; ` +
      `mean event JSON ${Math.round(store.meanDataBytes)} bytes; the template generated in ${(store.generateMs / 1000).toFixed(1)} s (not counted)`,
  };
  figures.push(
    copyFigure,
    { name: 'scale.store.events', value: store.events, unit: 'events' },
    {
      name: 'scale.store.children',
      value: store.children,
      unit: 'children',
    },
  );

  // The rebuild: the projection app on the full store with empty read models.
  const head = await storeHeadPosition(pool);
  say(
    `scale: rebuilding the read models from ${store.events} events (timeline projector, identity linker, analysis model)`,
  );
  const since = process.hrtime.bigint();
  const watch = (name: ReadModelName, checkpointName: string) =>
    watchProgress(
      () => readModelCheckpoint(pool, name, checkpointName),
      async (value) => value >= head,
      { stage: `scale rebuild (${name})`, timeoutMs: context.rebuildTimeoutMs, intervalMs: PROGRESS_POLL_MS },
    );
  const started = context.startProjection();
  const watched = Promise.all([
    watch('timeline', context.projectionName),
    watch('linker', DEFAULT_LINKER_NAME),
    watch('analysis', ANALYSIS_PROJECTION),
  ]);
  const [projection, [timeline, linker, analysis]] = await Promise.all([started, watched]);
  const rebuilt: Rebuilt[] = [];
  for (const [name, figure, progress] of [
    ['timeline projector', 'scale.timeline.rebuild', timeline],
    ['identity linker', 'scale.identity.linker.rebuild', linker],
    ['analysis model', 'scale.analysis.rebuild', analysis],
  ] as const) {
    const rate = backlogRate(progress, store.events, await eventsUpTo(pool, progress.firstValue), since);
    rebuilt.push({ name, figure, rate, doneMs: elapsedMs(since, progress.doneAt) });
  }
  // The linker's own identity events lie past the head: everything caught up with them too.
  await waitForReadModelsAtHead(pool, context.projectionName, {
    timeoutMs: context.rebuildTimeoutMs,
    intervalMs: PROGRESS_POLL_MS,
    stage: 'scale rebuild (the identity events)',
  });
  const identityEvents = (await storeHeadPosition(pool)) - head;
  const allDoneMs = elapsedMs(since);
  for (const { name, figure, rate, doneMs } of rebuilt) {
    say(
      `  ${name}: ${Math.round(rate.eventsPerSecond)} events/s, head reached ${(doneMs / 1000).toFixed(1)} s after the spawn`,
    );
    figures.push(
      {
        name: `${figure}.events_per_s`,
        value: rate.eventsPerSecond,
        unit: 'events/s',
        note:
          `the ${name} inside the projection app (child process), from an empty state on the ${store.events}-event store, ` +
          'beside the other two catching up at the same time; from its first checkpoint seen to the head the stage ' +
          `started at; ratio to this run's postgres.raw_copy ceiling (goal 0.3, issue 16)`,
      },
      {
        name: `${figure}.seconds`,
        value: doneMs / 1000,
        unit: 's',
        note: `the ${name}: projection app spawned to its checkpoint at the head (start-up and migrations included)`,
      },
    );
  }
  figures.push({
    name: 'scale.rebuild.all_caught_up_seconds',
    value: allDoneMs / 1000,
    unit: 's',
    note: `spawn to all three read models at the head, including the ${identityEvents} identity events the linker appended`,
  });

  // A busy child's timeline, outcomes and decisions on this store (as the apps stage measures them).
  say(
    `scale: one child with ${BUSY_CHILD_ENTRIES} entries, ${READS} reads of timeline, outcomes and decisions`,
  );
  const busy = await measureOutcomeQueries(context.ownerUrl, pool, projection.url, {
    projectionName: context.projectionName,
    reader: context.reader,
    reads: READS,
    timeoutMs: context.rebuildTimeoutMs,
  });
  say(
    `  timeline p50 ${busy.timelineP50.toFixed(1)} / p99 ${busy.timelineP99.toFixed(1)} ms; outcomes p99 ` +
      `${busy.outcomesP99.toFixed(1)} ms; decisions p99 ${busy.decisionsP99.toFixed(1)} ms`,
  );
  const goal = (name: string, value: number, goalMs: number, note: string): Figure => ({
    name,
    value,
    unit: 'ms',
    ratio: goalMs / value,
    goal_ratio: 1,
    note: `${note}; ratio = goal ${goalMs} ms / value`,
  });
  const busyNote =
    `one child with ${busy.entries} entries appended to the ${store.events}-event store and taken in by all three read models, as the demo social worker ` +
    `over HTTP, ${busy.reads} sequential reads after 10 warm-up reads, timeline, outcomes and decisions interleaved`;
  figures.push(
    goal(
      'timeline.query.p99_ms',
      busy.timelineP99,
      TIMELINE_GOAL_MS,
      `GET /v1/children/{childKey}/timeline: ${busyNote}`,
    ),
    goal(
      'scale.outcomes.query.p99_ms',
      busy.outcomesP99,
      OUTCOMES_GOAL_MS,
      `GET …/outcomes?framework=ecm: ${busyNote}`,
    ),
    goal('scale.decisions.query.p99_ms', busy.decisionsP99, OUTCOMES_GOAL_MS, `GET …/decisions: ${busyNote}`),
  );

  // Lookups of children by a record, spread over the whole store.
  const sample = await pool.query<{ stream_id: string }>(
    `SELECT stream_id FROM streams WHERE stream_id LIKE 'social-care-%' ORDER BY random() LIMIT ${LOOKUPS + 10}`,
  );
  const reader = await context.reader();
  const lookups: number[] = [];
  for (const [index, row] of sample.rows.entries()) {
    const event = {
      source: { agency: 'social-care' },
      subject: { recordId: row.stream_id.slice('social-care-'.length) },
    } as unknown as AgencyEvent;
    const at = process.hrtime.bigint();
    await lookupChildKey(projection.url, event, reader);
    if (index >= 10) lookups.push(elapsedMs(at)); // the first ten warm up
  }
  say(
    `  lookup p50 ${percentile(lookups, 50).toFixed(1)} / p99 ${percentile(lookups, 99).toFixed(1)} ms (${lookups.length})`,
  );
  figures.push(
    goal(
      'lookup.p99_ms',
      percentile(lookups, 99),
      LOOKUP_GOAL_MS,
      `POST /v1/children/lookup by a social-care record id, ${lookups.length} records drawn at random from the store ` +
        `(after 10 warm-up lookups), one at a time, as the demo social worker; p50 ${percentile(lookups, 50).toFixed(1)} ms`,
    ),
  );

  // Every measure of the catalogue, run and disclosure-controlled, in process on this store's
  // model, or on that model replicated up to analysisChildren when the store is smaller.
  const modelChildren = await replicateAnalysisModel(pool, store.children, context.analysisChildren, say);
  const modelNote =
    modelChildren === store.children
      ? `the ${store.children}-child model rebuilt from the store`
      : `the model rebuilt from the ${store.children}-child store, replicated in SQL to ${modelChildren} children ` +
        '(children and facts copied with suffixed pseudonyms and record refs, positions moved on; BENCH_SCALE_ANALYSIS_CHILDREN)';
  say(
    `scale: ${MEASURES.length} analysis measures, ${context.analysisRepetitions} varied queries each, on ${modelNote}`,
  );
  const queries = new AnalysisQueries(pool);
  for (const measure of MEASURES) {
    const samples: number[] = [];
    let refused = 0;
    for (const query of analysisVariants(measure, context.analysisRepetitions)) {
      const at = process.hrtime.bigint();
      const raw = await queries.run(query);
      try {
        controlResult(raw);
      } catch (error) {
        if (!(error instanceof DisclosureRefusedError)) throw error;
        refused++;
      }
      samples.push(elapsedMs(at));
    }
    say(
      `  ${measure.id}: p50 ${percentile(samples, 50).toFixed(0)} / p99 ${percentile(samples, 99).toFixed(0)} ms` +
        (refused ? ` (${refused} refused by disclosure control)` : ''),
    );
    figures.push(
      goal(
        `analysis.query.${measure.id}.p99_ms`,
        percentile(samples, 99),
        ANALYSIS_GOAL_MS,
        `AnalysisQueries.run + controlResult in process on ${modelNote}, ${samples.length} ` +
          `queries varying grouping, period and cohort (samples ${samples.map((s) => Math.round(s)).join(', ')} ms` +
          `${refused ? `; ${refused} refused by disclosure control, timed all the same` : ''})`,
      ),
    );
  }

  // Bytes on disk per event.
  const sizes = await pool.query<{ name: string; bytes: string }>(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'`,
  );
  const events = await storeHeadPosition(pool);
  const parts = new Map<string, { bytes: number; tables: string[] }>();
  for (const row of sizes.rows) {
    const part = partOf(row.name);
    const entry = parts.get(part) ?? { bytes: 0, tables: [] };
    entry.bytes += Number(row.bytes);
    if (Number(row.bytes) > 1 << 20)
      entry.tables.push(`${row.name} ${(Number(row.bytes) / 2 ** 20).toFixed(0)} MiB`);
    parts.set(part, entry);
  }
  let total = 0;
  for (const part of ['store', 'timeline', 'identity', 'analysis', 'other']) {
    const entry = parts.get(part) ?? { bytes: 0, tables: [] };
    total += entry.bytes;
    figures.push({
      name: `scale.bytes_per_event.${part}`,
      value: entry.bytes / events,
      unit: 'bytes',
      note: `pg_total_relation_size (heap, TOAST, indexes) / ${events} events in the store; ${(entry.bytes / 2 ** 30).toFixed(2)} GiB${entry.tables.length ? ` (${entry.tables.join(', ')})` : ''}`,
    });
  }
  figures.push({
    name: 'scale.bytes_per_event.total',
    value: total / events,
    unit: 'bytes',
    note: `store and every read model: ${(total / 2 ** 30).toFixed(2)} GiB for ${events} events`,
  });
  say(`  ${(total / 2 ** 30).toFixed(2)} GiB on disk, ${Math.round(total / events)} bytes per event`);
  return { figures, store };
}
