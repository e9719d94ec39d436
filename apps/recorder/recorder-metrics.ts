import { DURATION_BUCKETS } from '@throughline/platform';
import type { RecordedBatch, RecorderMetrics } from '@throughline/recording';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

type CounterName = keyof Pick<
  RecorderMetrics,
  | 'messagesConsumed'
  | 'eventsStored'
  | 'duplicatesSkipped'
  | 'deadLettered'
  | 'alreadyRecordedSkipped'
  | 'batches'
  | 'batchesIsolated'
  | 'retriableFailures'
>;

/** The recorder's counters as Prometheus counters: name, help. */
const COUNTERS: readonly [CounterName, string, string][] = [
  ['messagesConsumed', 'throughline_recorder_messages_consumed_total', 'Kafka messages consumed'],
  ['eventsStored', 'throughline_recorder_events_stored_total', 'Events appended to the store'],
  [
    'duplicatesSkipped',
    'throughline_recorder_duplicates_skipped_total',
    'Events already in the store (same event id), not appended again',
  ],
  ['deadLettered', 'throughline_recorder_dead_lettered_total', 'Messages dead-lettered (topic and table)'],
  [
    'alreadyRecordedSkipped',
    'throughline_recorder_already_recorded_skipped_total',
    'Redelivered messages below the stored checkpoint, skipped',
  ],
  ['batches', 'throughline_recorder_batches_total', 'Batches recorded and committed'],
  [
    'batchesIsolated',
    'throughline_recorder_batches_isolated_total',
    'Batches the store refused as a whole, then appended message by message',
  ],
  [
    'retriableFailures',
    'throughline_recorder_batch_failures_total',
    'Failed batch attempts, each retried after a pause',
  ],
];

/**
 * The recorder's metrics in the app's registry: its counters (read from the recorder at
 * scrape time), batch duration, and lag per partition. Returns the recorder's onBatchRecorded.
 */
export function recorderMetrics(
  registry: Registry,
  metrics: () => RecorderMetrics | undefined,
): (batch: RecordedBatch) => void {
  for (const [field, name, help] of COUNTERS) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(metrics()?.[field] ?? 0);
      },
    });
  }
  new Gauge({
    name: 'throughline_recorder_lag_messages',
    help: "Messages behind the partition's high watermark after the last batch",
    labelNames: ['topic', 'partition'],
    registers: [registry],
    collect() {
      for (const [key, lag] of Object.entries(metrics()?.lag ?? {})) {
        const split = key.lastIndexOf(':');
        this.set({ topic: key.slice(0, split), partition: key.slice(split + 1) }, lag);
      }
    },
  });
  const batchDuration = new Histogram({
    name: 'throughline_recorder_batch_duration_seconds',
    help: 'Batches recorded: validate, dead-letter, append with the offsets, commit, in seconds',
    labelNames: ['topic'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  return (batch) => batchDuration.observe({ topic: batch.topic }, batch.durationMs / 1000);
}
