import { z } from 'zod';
import { loadConfig, type Config } from '@throughline/platform';

/**
 * The bench's own settings. BENCH_EVENTS is the one variable only the bench reads, so it is
 * parsed here, beside loadConfig() for everything the apps share (brokers, database server).
 */
const benchEnvSchema = z.object({
  /** Synthetic events pushed through every throughput stage (the same payloads each time). */
  BENCH_EVENTS: z.coerce.number().int().min(1000).max(1_000_000).default(20_000),
});

export interface BenchOptions {
  readonly config: Config;
  readonly eventCount: number;
  /** Events per Kafka sendBatch, per multi-row INSERT and per POST /v1/events/batch. */
  readonly batchSize: number;
  /** Open-loop rate (events/s) and duration (s) of the latency probes. */
  readonly latencyRatePerSecond: number;
  readonly latencyDurationSeconds: number;
  /** Milliseconds between "is it visible yet?" checks in the latency probe. */
  readonly visibilityPollMs: number;
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
    config: loadConfig(env),
    eventCount: parsed.data.BENCH_EVENTS,
    batchSize: 1000,
    latencyRatePerSecond: 50,
    latencyDurationSeconds: 20,
    visibilityPollMs: 5,
    runId: `${Date.now().toString(36)}${Math.floor(Math.random() * 1296)
      .toString(36)
      .padStart(2, '0')}`,
  };
}

/** The bench database: same server as DATABASE_URL, a name of its own (dropped at the end). */
export function benchDatabaseUrl(options: BenchOptions): string {
  const url = new URL(options.config.DATABASE_URL);
  url.pathname = `/throughline_bench_${options.runId}`;
  return url.toString();
}

export function benchTopicPrefix(options: BenchOptions, stage: string): string {
  return `bench.${options.runId}.${stage}.`;
}

/** A stage's deadline grows with the event count: 30 s plus 5 ms per event (130 s for 20,000). */
export function stageTimeoutMs(options: BenchOptions, perEventMs = 5): number {
  return 30_000 + options.eventCount * perEventMs;
}
