import { describeEventStoreContract } from '@throughline/testing';
import { EventStoreDbEventStore } from './eventstoredb-event-store';

/**
 * The same contract suite as the PostgreSQL adapter, against a real EventStoreDB/KurrentDB
 * when EVENTSTORE_CONNECTION_STRING names one (`docker compose up kurrentdb` provides
 * esdb://127.0.0.1:2113?tls=false). Without it the suite is reported as skipped, with why.
 */
const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString) {
  describeEventStoreContract('EventStoreDbEventStore', async () => {
    const store = new EventStoreDbEventStore({ connectionString });
    return { store, cleanup: () => store.close() };
  });
} else {
  // Printed when the file loads: jest runs no hooks of a describe whose tests are all skipped.
  process.stderr.write(
    '[event-store] EventStoreDB contract suite SKIPPED: EVENTSTORE_CONNECTION_STRING is not set ' +
      '(no EventStoreDB/KurrentDB server on this machine; docker compose provides one)\n',
  );
  describe('EventStore contract: EventStoreDbEventStore', () => {
    it.skip('runs the shared contract suite (skipped: EVENTSTORE_CONNECTION_STRING is not set)', () => {
      // intentionally empty: reported as skipped, never as passed
    });
  });
}
