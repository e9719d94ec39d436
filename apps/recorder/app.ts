import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createEventStore } from '@throughline/event-store';
import {
  appLogger,
  contextLogger,
  createHttpApp,
  createKafka,
  createMetricsRegistry,
  edgeSettingsOf,
  listen,
  startTracing,
  topicNames,
  type Config,
} from '@throughline/platform';
import {
  DeadLetterRedriver,
  PostgresDeadLetters,
  RECORDER_KAFKA_RETRY,
  Recorder,
} from '@throughline/recording';
import { recorderHttpModule } from './recorder-http.module';
import { recorderMetrics } from './recorder-metrics';

export interface RecorderApp {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly recorder: Recorder;
  /** Stops the consumer (after the batch in hand), the HTTP server and the pools. Idempotent. */
  close(): Promise<void>;
}

/**
 * Kafka → event store, with /health (live, ready), /metrics, /v1/recorder/status and
 * /v1/dead-letters (list, re-drive) on RECORDER_PORT (0: any free port).
 */
export async function createRecorderApp(config: Config): Promise<RecorderApp> {
  startTracing({ serviceName: 'throughline-recorder', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const logger = appLogger(config);
  const metrics = createMetricsRegistry('recorder');
  const store = await createEventStore(config);
  let deadLetters: PostgresDeadLetters | undefined;
  let recorder: Recorder | undefined;
  let released: Promise<void> | undefined;
  const release = (): Promise<void> =>
    (released ??= (async () => {
      try {
        await recorder?.stop();
      } finally {
        await deadLetters?.close();
        await store.close();
      }
    })());

  try {
    deadLetters = await PostgresDeadLetters.create({ connectionString: config.DATABASE_URL });
    const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
    const redriver = new DeadLetterRedriver({ deadLetters, store, topics });
    recorder = new Recorder({
      kafka: createKafka(config, 'recorder', { retry: RECORDER_KAFKA_RETRY }),
      store,
      deadLetters,
      groupId: config.RECORDER_GROUP_ID,
      topics,
      partitions: config.KAFKA_PARTITIONS,
      maxRetryMs: config.RECORDER_MAX_RETRY_MS,
      logger: contextLogger(logger, 'recorder'),
      onBatchRecorded: recorderMetrics(metrics, () => recorder?.metrics()),
    });
    await recorder.start();
    const app = await createHttpApp(recorderHttpModule(recorder, deadLetters, redriver, release), {
      title: 'Throughline recorder',
      description: 'Records agency events from Kafka into the event store; dead letters and status.',
      logger,
      metrics,
      edge: edgeSettingsOf(config),
    });
    let url: string;
    try {
      url = await listen(app, config.RECORDER_PORT, config.HOST);
    } catch (error) {
      await app.close();
      throw error;
    }
    let closed: Promise<void> | undefined;
    return {
      app,
      url,
      recorder,
      close: () => (closed ??= app.close().then(release)),
    };
  } catch (error) {
    await release();
    throw error;
  }
}
