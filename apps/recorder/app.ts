import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { migrateAccess, openGovernedAccess, type GovernedAccess } from '@throughline/access';
import { createEventStore, migrateAsOwnerBesideGenerations } from '@throughline/event-store';
import {
  appLogger,
  contextLogger,
  createHttpApp,
  createKafka,
  createMetricsRegistry,
  createPool,
  edgeSettingsOf,
  gatewayRejectionsGroup,
  gatewayRejectionsTopic,
  listen,
  prepareDatabase,
  startTracing,
  topicNames,
  type Config,
} from '@throughline/platform';
import {
  DeadLetterRedriver,
  GatewayRejectionRecorder,
  GatewayRejections,
  PostgresDeadLetters,
  RECORDER_KAFKA_RETRY,
  Recorder,
} from '@throughline/recording';
import { migrateTimeline } from '@throughline/timeline';
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
  let rejections: GatewayRejectionRecorder | undefined;
  let access: GovernedAccess | undefined;
  let accessPool: Pool | undefined;
  let released: Promise<void> | undefined;
  const release = (): Promise<void> =>
    (released ??= (async () => {
      try {
        await rejections?.stop();
        await recorder?.stop();
      } finally {
        access?.close();
        await accessPool?.end();
        await deadLetters?.close();
        await store.close();
      }
    })());

  try {
    // The dead letters live in PostgreSQL whatever the store; migrated by the owner role (decision 011).
    const connections = await prepareDatabase(config);
    // The access log is the timeline context's table and the policy the access context's: the
    // recorder's dead-letter routes are governed and recorded like every other (decision 014).
    // With the read models' live generations on the search_path: the timeline's grants name them (decision 023).
    await migrateAsOwnerBesideGenerations(connections, async (owner, grants) => {
      await migrateTimeline(owner, grants);
      await migrateAccess(owner, grants);
    });
    accessPool = createPool(config.DATABASE_URL, { max: 4 });
    access = await openGovernedAccess(accessPool, config);
    deadLetters = await PostgresDeadLetters.create({
      connectionString: config.DATABASE_URL,
      ownerConnectionString: config.DATABASE_OWNER_URL,
    });
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
    // Events the gateways rejected, kept without payload (decision 012); in the background, never in the way.
    rejections = new GatewayRejectionRecorder({
      kafka: createKafka(config, 'recorder', { clientSuffix: 'recorder-gateway-rejections' }),
      rejections: new GatewayRejections(accessPool),
      topic: gatewayRejectionsTopic(config.KAFKA_TOPIC_PREFIX),
      groupId: gatewayRejectionsGroup(config.RECORDER_GROUP_ID),
      logger: contextLogger(logger, 'gateway-rejections'),
    });
    rejections.start();
    const app = await createHttpApp(recorderHttpModule(recorder, deadLetters, redriver, release), {
      title: 'Throughline recorder',
      description:
        'Records agency events from Kafka into the event store; dead letters and status. Every call needs a ' +
        'bearer access token and an x-purpose header; dead-letter payloads need their own permission.',
      logger,
      metrics,
      edge: edgeSettingsOf(config),
      access: access.enhancers,
      auditRefusal: access.auditRefusal,
      docs: config.THROUGHLINE_MODE === 'development',
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
