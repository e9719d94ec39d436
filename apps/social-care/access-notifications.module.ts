import { Module, type DynamicModule } from '@nestjs/common';
import type { Pool } from 'pg';
import { TokenVerifier } from '@throughline/access';
import { AccessNotificationInbox } from '@throughline/notifications';
import { ReadinessChecks, UnavailableError, type Config } from '@throughline/platform';
import { AccessNotificationsController } from './access-notifications.controller';
import {
  accessNotificationsEventController,
  type AccessNotificationsConsumer,
} from './access-notifications.consumer';

/** The authority's side of access notifications: the Kafka handler, the listing, their readiness. */
@Module({})
export class AccessNotificationsModule {
  static register(config: Config, pool: Pool, consumer: AccessNotificationsConsumer): DynamicModule {
    return {
      module: AccessNotificationsModule,
      controllers: [AccessNotificationsController, accessNotificationsEventController(consumer.topic)],
      providers: [
        { provide: AccessNotificationInbox, useValue: new AccessNotificationInbox(pool) },
        { provide: TokenVerifier, useValue: TokenVerifier.fromConfig(config) },
        {
          provide: ReadinessChecks,
          useValue: new ReadinessChecks([
            {
              name: 'database',
              probe: async () => {
                await pool.query('SELECT 1').catch((error: unknown) => {
                  throw new UnavailableError('database unreachable', error);
                });
                return {};
              },
            },
            consumer.readiness(),
          ]),
        },
      ],
    };
  }
}
