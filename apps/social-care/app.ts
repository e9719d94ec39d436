import { ServiceAccessGuard, TokenVerifier } from '@throughline/access';
import { Module } from '@nestjs/common';
import type { Pool } from 'pg';
import {
  AgencyGatewayModule,
  acceptImportUploads,
  agencyPort,
  type RunningAgencyApp,
} from '@throughline/agency-gateway';
import { migrateNotifications } from '@throughline/notifications';
import {
  appLogger,
  createHttpApp,
  createMetricsRegistry,
  createPool,
  edgeSettingsOf,
  listen,
  migrateAsOwner,
  prepareDatabase,
  startTracing,
  type Config,
} from '@throughline/platform';
import { AccessNotificationsConsumer } from './access-notifications.consumer';
import { AccessNotificationsModule } from './access-notifications.module';

/**
 * The social care agency service, listening on SOCIAL_CARE_PORT: LA case systems publish here
 * (the agency gateway), and it is the local authority's end of CP-IS-style access
 * notifications: a hybrid Nest app consuming `throughline.access-notifications.v1` and listing
 * them at GET /v1/access-notifications.
 */
export async function createSocialCareApp(config: Config): Promise<RunningAgencyApp> {
  startTracing({ serviceName: 'throughline-social-care', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  // Migrated by the owner role; the app's pool is the app role's, rows only (decision 011).
  const connections = await prepareDatabase(config);
  await migrateAsOwner(connections, (owner, grants) => migrateNotifications(owner, grants));
  const consumer = new AccessNotificationsConsumer(config);
  const pool: Pool = createPool(config.DATABASE_URL, { max: 5 });
  try {
    @Module({
      imports: [
        AgencyGatewayModule.forAgency('social-care', config),
        AccessNotificationsModule.register(config, pool, consumer),
      ],
    })
    class SocialCareAppModule {}

    const app = await createHttpApp(SocialCareAppModule, {
      title: 'Throughline social-care service',
      description:
        'Publish social-care events about children to Throughline. Authenticate with "Authorization: Bearer <access token>", a client-credentials token of this agency\'s system. ' +
        'Every event is answered on its own: accepted with its Kafka topic, partition and offset, or rejected ' +
        'with each failing field path and rule. The local authority lists here who outside it read the ' +
        'chronology of its children on a child protection plan or looked after (CP-IS-style access notifications).',
      logger: appLogger(config),
      metrics: createMetricsRegistry('social-care'),
      edge: edgeSettingsOf(config),
      access: { guards: [new ServiceAccessGuard(TokenVerifier.fromConfig(config))], interceptors: [] },
      docs: config.THROUGHLINE_MODE === 'development',
    });
    const close = async () => {
      consumer.stop();
      try {
        await app.close(); // the HTTP server, the Kafka producer and the notifications consumer
      } finally {
        await pool.end();
      }
    };
    try {
      await acceptImportUploads(app);
      consumer.attach(app);
      await consumer.start(app);
      const url = await listen(app, agencyPort('social-care', config), config.HOST);
      let closed: Promise<void> | undefined;
      return { app, url, close: () => (closed ??= close()) };
    } catch (error) {
      await close();
      throw error;
    }
  } catch (error) {
    consumer.stop();
    await pool.end().catch(() => undefined);
    throw error;
  }
}
