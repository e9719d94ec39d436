import { ThroughlineError, type Config } from '@throughline/platform';
import type { EventStore } from './port';
import { PostgresEventStore } from './postgres-event-store';

/** The event store adapter named by EVENT_STORE: the one place the apps choose it. */
export async function createEventStore(config: Config): Promise<EventStore> {
  switch (config.EVENT_STORE) {
    case 'postgres':
      return PostgresEventStore.create({
        connectionString: config.DATABASE_URL,
        idlePollMs: config.SUBSCRIPTION_IDLE_POLL_MS,
      });
    case 'eventstoredb':
      throw new ThroughlineError(
        'CONFIGURATION',
        'EVENT_STORE=eventstoredb: the EventStoreDB adapter is not available yet; set EVENT_STORE=postgres',
      );
  }
}
