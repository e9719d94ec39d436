export type {
  AppendOptions,
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamAppend,
  SubscribeOptions,
  Subscription,
  SubscriptionHandler,
} from './port';
export {
  DEFAULT_NOTIFY_CHANNEL,
  PostgresEventStore,
  type PostgresEventStoreOptions,
} from './postgres-event-store';
export { describeActualRevision, describeExpectedRevision } from './append-plan';
export { createEventStore } from './create-event-store';
export { EventStoreDbEventStore, type EventStoreDbOptions } from './eventstoredb-event-store';
