import { ThroughlineError, UnavailableError, prepareDatabase, type Config } from '@throughline/platform';
import type { EventStore } from './port';
import { EventStoreDbEventStore } from './eventstoredb-event-store';
import { PostgresEventStore } from './postgres-event-store';

/** The event store adapter named by EVENT_STORE: the one place the apps choose it. */
export async function createEventStore(config: Config): Promise<EventStore> {
  switch (config.EVENT_STORE) {
    case 'postgres':
      // The roles and the database exist (made on a fresh PostgreSQL); the owner migrates, the
      // store works as the app role (docs/decisions/011-database-roles.md).
      await prepareDatabase(config);
      return PostgresEventStore.create({
        connectionString: config.DATABASE_URL,
        ownerConnectionString: config.DATABASE_OWNER_URL,
        idlePollMs: config.SUBSCRIPTION_IDLE_POLL_MS,
        sharedReadEvents: config.SUBSCRIPTION_SHARED_READ_EVENTS,
      });
    case 'eventstoredb':
      if (!config.EVENTSTORE_CONNECTION_STRING) {
        throw new ThroughlineError(
          'CONFIGURATION',
          'EVENT_STORE=eventstoredb needs EVENTSTORE_CONNECTION_STRING (e.g. esdb://127.0.0.1:2113?tls=false)',
        );
      }
      return connectedEventStoreDb(config.EVENTSTORE_CONNECTION_STRING);
  }
}

/** The client connects lazily; a first read makes an unreachable server fail the start-up, retriably. */
async function connectedEventStoreDb(connectionString: string): Promise<EventStore> {
  const store = new EventStoreDbEventStore({ connectionString });
  try {
    await store.headPosition();
    return store;
  } catch (error) {
    await store.close().catch(() => undefined);
    throw new UnavailableError(`EventStoreDB does not answer: ${(error as Error).message}`, error);
  }
}
