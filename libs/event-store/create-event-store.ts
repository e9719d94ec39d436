import { ThroughlineError, type Config } from '@throughline/platform';
import type { EventStore } from './port';
import { EventStoreDbEventStore } from './eventstoredb-event-store';
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
      if (!config.EVENTSTORE_CONNECTION_STRING) {
        throw new ThroughlineError(
          'CONFIGURATION',
          'EVENT_STORE=eventstoredb needs EVENTSTORE_CONNECTION_STRING (e.g. esdb://127.0.0.1:2113?tls=false)',
        );
      }
      return new EventStoreDbEventStore({ connectionString: config.EVENTSTORE_CONNECTION_STRING });
  }
}
