import { z } from 'zod';
import { DEFAULT_SUBSCRIPTION_BATCH_SIZE } from '@throughline/event-store';
import { loadConfig, type Config } from '@throughline/platform';

/**
 * Groups of stages BENCH_STAGES can pick. `store`: the event store driven in-process against
 * its PostgreSQL ceilings (no Kafka, no apps). `apps`: the Kafka and PostgreSQL ceilings, then
 * the five apps as child processes. Both (the default, `all`) is the full run, the only one
 * that writes results/latest.json. `scale`: a store of BENCH_SCALE_CHILDREN children built by
 * COPY, the read models rebuilt from it and the reads measured on it (bench/scale-stage.ts);
 * it takes far longer than the others, so `all` leaves it out and it is only run when named.
 * `scaleout` (one recorder against three on nine partitions) and `soak` (BENCH_SOAK_SECONDS at
 * BENCH_SOAK_RATE with restarts) also run only when named.
 */
export const STAGE_GROUPS = ['store', 'apps', 'scale', 'scaleout', 'soak'] as const;
export type StageGroup = (typeof STAGE_GROUPS)[number];
/** What `all` (and an empty BENCH_STAGES) runs: the full run that writes results/latest.json. */
export const ALL_STAGE_GROUPS: readonly StageGroup[] = ['store', 'apps'];

const stagesSchema = z
  .string()
  .trim()
  .default('all')
  .transform((value, context): StageGroup[] => {
    if (value === 'all' || value === '') return [...ALL_STAGE_GROUPS];
    const named = value.split(',').map((name) => name.trim());
    const unknown = named.filter((name) => !(STAGE_GROUPS as readonly string[]).includes(name));
    if (unknown.length > 0) {
      context.addIssue({
        code: 'custom',
        message: `unknown stage group ${unknown.join(', ')}: must be all or a comma-separated list of ${STAGE_GROUPS.join(', ')}`,
      });
      return z.NEVER;
    }
    return STAGE_GROUPS.filter((group) => named.includes(group));
  });

/**
 * The bench's own settings. BENCH_EVENTS and BENCH_STAGES are the variables only the bench
 * reads, so they are parsed here, beside loadConfig() for everything the apps share (brokers,
 * database server).
 */
/** Events/s the soak offers by default: what this 2-core machine held with headroom (bench/README.md). */
export const DEFAULT_SOAK_RATE = 100;

const benchEnvSchema = z.object({
  /** Synthetic events pushed through every throughput stage (the same payloads each time). */
  BENCH_EVENTS: z.coerce.number().int().min(1000).max(1_000_000).default(20_000),
  BENCH_STAGES: stagesSchema,
  /** Children in the scale stage's store (copies of a 2,000-child template, about 63 events each). */
  BENCH_SCALE_CHILDREN: z.coerce.number().int().min(100).max(400_000).default(100_000),
  /**
   * Children the analysis measures are timed on (default BENCH_SCALE_CHILDREN): when the store is
   * smaller, the model rebuilt from it is replicated in SQL up to this many before the queries.
   */
  BENCH_SCALE_ANALYSIS_CHILDREN: z.coerce.number().int().min(100).max(1_000_000).optional(),
  /** Queries per analysis measure in the scale stage (groupings, periods and cohorts varied). */
  BENCH_SCALE_QUERY_REPS: z.coerce.number().int().min(1).max(100).default(5),
  /** `1` keeps the scale stage's database after the run (to study its plans); it is dropped otherwise. */
  BENCH_SCALE_KEEP: z.enum(['0', '1']).default('0'),
  /** The soak stage's length in seconds and its fixed offered rate in events/s. */
  BENCH_SOAK_SECONDS: z.coerce.number().int().min(30).max(86_400).default(600),
  BENCH_SOAK_RATE: z.coerce.number().int().min(10).max(5_000).default(DEFAULT_SOAK_RATE),
});

export interface BenchOptions {
  readonly config: Config;
  readonly eventCount: number;
  /** The stage groups to run, in run order; both for a full run. */
  readonly stages: readonly StageGroup[];
  /** Events per Kafka sendBatch, per multi-row INSERT and per POST /v1/events/batch. */
  readonly batchSize: number;
  /** Open-loop rate (events/s) and duration (s) of the latency probes. */
  readonly latencyRatePerSecond: number;
  readonly latencyDurationSeconds: number;
  /** Milliseconds between "is it visible yet?" checks in the latency probe. */
  readonly visibilityPollMs: number;
  /** Events per appendMany call tried by event_store.append_batch; the best is reported. */
  readonly appendBatchSizes: readonly number[];
  /** Events per read of the catch-up subscription and of its raw ceiling (the projection's batch). */
  readonly subscriptionBatchSize: number;
  /** Concurrent writers (one connection each) and events of the single-append stage. */
  readonly singleAppendWriters: number;
  readonly singleAppendEvents: number;
  /** The scale stage: children, queries per measure, and whether its database is kept. */
  readonly scaleChildren: number;
  readonly scaleQueryRepetitions: number;
  readonly scaleAnalysisChildren: number;
  readonly scaleKeepDatabase: boolean;
  /** The soak stage: seconds of load at a fixed rate (events/s), restarts in the middle. */
  readonly soakSeconds: number;
  readonly soakRate: number;
  /** Unique per run: names the database, topics and consumer groups so nothing else is touched. */
  readonly runId: string;
}

export function loadBenchOptions(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const parsed = benchEnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid bench environment:\n${lines.join('\n')}`);
  }
  return {
    // The bench runs the local stack with its development keys unless told otherwise.
    config: loadConfig({ THROUGHLINE_MODE: 'development', ...env }),
    eventCount: parsed.data.BENCH_EVENTS,
    stages: parsed.data.BENCH_STAGES,
    batchSize: 1000,
    latencyRatePerSecond: 50,
    latencyDurationSeconds: 20,
    visibilityPollMs: 5,
    appendBatchSizes: [100, 500, 1000, 5000, 20000],
    subscriptionBatchSize: DEFAULT_SUBSCRIPTION_BATCH_SIZE,
    singleAppendWriters: 8,
    singleAppendEvents: Math.min(parsed.data.BENCH_EVENTS, 4000),
    scaleChildren: parsed.data.BENCH_SCALE_CHILDREN,
    scaleQueryRepetitions: parsed.data.BENCH_SCALE_QUERY_REPS,
    scaleAnalysisChildren: parsed.data.BENCH_SCALE_ANALYSIS_CHILDREN ?? parsed.data.BENCH_SCALE_CHILDREN,
    scaleKeepDatabase: parsed.data.BENCH_SCALE_KEEP === '1',
    soakSeconds: parsed.data.BENCH_SOAK_SECONDS,
    soakRate: parsed.data.BENCH_SOAK_RATE,
    runId: `${Date.now().toString(36)}${Math.floor(Math.random() * 1296)
      .toString(36)
      .padStart(2, '0')}`,
  };
}

/**
 * The bench database: same server as DATABASE_OWNER_URL, a name of its own (dropped at the end),
 * as the owner role (the bench makes tables of its own there; the apps connect as the app role).
 */
export function benchDatabaseUrl(options: BenchOptions): string {
  const url = new URL(options.config.DATABASE_OWNER_URL);
  url.pathname = `/throughline_bench_${options.runId}`;
  return url.toString();
}

/** A database of one store stage's own (same server, dropped at the end), e.g. `…_append_500`. */
export function benchStoreDatabaseUrl(options: BenchOptions, stage: string): string {
  const url = new URL(benchDatabaseUrl(options));
  url.pathname = `${url.pathname}_${stage}`;
  return url.toString();
}

export function benchTopicPrefix(options: BenchOptions, stage: string): string {
  return `bench.${options.runId}.${stage}.`;
}

/** A stage's deadline grows with the event count: 30 s plus 5 ms per event (130 s for 20,000). */
export function stageTimeoutMs(options: BenchOptions, perEventMs = 5): number {
  return 30_000 + options.eventCount * perEventMs;
}
