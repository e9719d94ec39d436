import { ANALYSIS_PROJECTION } from '@throughline/analysis';
import { DEFAULT_LINKER_NAME } from '@throughline/identity';
import type { Pool } from 'pg';
import { pollUntil } from './deadline';
import { elapsedMs, perSecond } from './stats';

/**
 * Watching an app work through a known backlog from outside, by reading the database it
 * writes (cheap index lookups, so the watching takes little from the apps). The rate runs from the first observation of any progress to the observation of
 * the target, so process start-up, migrations and the consumer group join are left out, as
 * they are from the ceilings (whose clients connect before the clock starts).
 */
export interface ProgressWatch {
  /** The value at the first observation that showed progress (> 0). */
  readonly firstValue: number;
  readonly firstAt: bigint;
  readonly doneAt: bigint;
}

export interface WatchOptions {
  readonly stage: string;
  readonly timeoutMs: number;
  readonly intervalMs: number;
}

/**
 * Polls a cheap progress reading (a store position) until `isDone` accepts it; `isDone` may
 * make a dearer check, only once the reading says the end is near.
 */
export async function watchProgress(
  read: () => Promise<number>,
  isDone: (value: number) => Promise<boolean>,
  options: WatchOptions,
): Promise<ProgressWatch> {
  let first: { value: number; at: bigint } | undefined;
  let doneAt: bigint | undefined;
  await pollUntil(async () => {
    const value = await read();
    const at = process.hrtime.bigint();
    if (value > 0 && first === undefined) first = { value, at };
    if (await isDone(value)) doneAt = at;
    return doneAt !== undefined;
  }, options);
  if (first === undefined || doneAt === undefined) throw new Error(`${options.stage}: no progress observed`);
  return { firstValue: first.value, firstAt: first.at, doneAt };
}

export interface BacklogRate {
  readonly eventsPerSecond: number;
  /** Events already done at the first observation (left out of the rate). */
  readonly doneAtFirstSight: number;
  readonly windowMs: number;
  /** From `since` (the spawn) to the last event: start-up included. */
  readonly coldMs: number;
}

export function backlogRate(
  watch: ProgressWatch,
  total: number,
  doneAtFirstSight: number,
  since: bigint,
): BacklogRate {
  const windowMs = elapsedMs(watch.firstAt, watch.doneAt);
  const drained = total - doneAtFirstSight;
  if (drained <= 0 || windowMs <= 0) {
    throw new Error(
      `the backlog was ${doneAtFirstSight === total ? 'already done' : 'not measurable'} at the first observation; ` +
        'raise BENCH_EVENTS so there is a backlog to time',
    );
  }
  return {
    eventsPerSecond: perSecond(drained, windowMs),
    doneAtFirstSight,
    windowMs,
    coldMs: elapsedMs(since, watch.doneAt),
  };
}

/** Rows in the event store (about 2 ms at 20,000 rows: checked only at the end of a drain). */
export async function storedEventCount(pool: Pool): Promise<number> {
  const result = await pool.query<{ count: string }>('SELECT count(*) AS count FROM events');
  return Number(result.rows[0].count);
}

/** The highest stored position: an index lookup; fails until the recorder has created the table. */
export async function storeHeadPosition(pool: Pool): Promise<number> {
  const result = await pool.query<{ head: string }>('SELECT coalesce(max(position), 0) AS head FROM events');
  return Number(result.rows[0].head);
}

export async function eventsUpTo(pool: Pool, position: number): Promise<number> {
  const result = await pool.query<{ count: string }>(
    'SELECT count(*) AS count FROM events WHERE position <= $1',
    [position],
  );
  return Number(result.rows[0].count);
}

/** The three read models of the projection app, by the table holding each one's checkpoint. */
const READ_MODEL_CHECKPOINTS = {
  timeline: 'SELECT position FROM projection_checkpoints WHERE name = $1',
  linker: 'SELECT position FROM identity_linker_checkpoints WHERE name = $1',
  analysis: 'SELECT position FROM analysis_checkpoints WHERE name = $1',
} as const;

export type ReadModelName = keyof typeof READ_MODEL_CHECKPOINTS;

/** A read model's committed checkpoint (a store position); fails until its table exists. */
export async function readModelCheckpoint(pool: Pool, model: ReadModelName, name: string): Promise<number> {
  const result = await pool.query<{ position: string }>(READ_MODEL_CHECKPOINTS[model], [name]);
  return Number(result.rows[0]?.position ?? 0);
}

/** The timeline projection's committed checkpoint. */
export function projectionCheckpoint(pool: Pool, projectionName: string): Promise<number> {
  return readModelCheckpoint(pool, 'timeline', projectionName);
}

/**
 * Waits until the projection app's three read models (the timeline projection `projectionName`,
 * the linker, the analysis model) all stand at the store's head and the head stays put: the
 * identity events the linker appends for what it took in are taken in too.
 */
export async function waitForReadModelsAtHead(
  pool: Pool,
  projectionName: string,
  options: { readonly timeoutMs: number; readonly intervalMs: number; readonly stage: string },
): Promise<void> {
  const names: Record<ReadModelName, string> = {
    timeline: projectionName,
    linker: DEFAULT_LINKER_NAME,
    analysis: ANALYSIS_PROJECTION,
  };
  await pollUntil(async () => {
    const head = await storeHeadPosition(pool);
    const positions = await Promise.all(
      (Object.keys(names) as ReadModelName[]).map((model) => readModelCheckpoint(pool, model, names[model])),
    );
    return positions.every((position) => position >= head) && (await storeHeadPosition(pool)) === head;
  }, options);
}
