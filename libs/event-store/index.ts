export type {
  AppendOptions,
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  ReadAllOptions,
  ReadFilteredOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamAppend,
  StreamMetadata,
  SubscribeOptions,
  Subscription,
  SubscriptionHandler,
} from './port';
export {
  EventIdConflictError,
  RECORDED_BY_RECORDER,
  RESERVED_STREAM_METADATA_KEYS,
  StreamTombstonedError,
  validatedAtIntake,
} from './port';
export {
  DEFAULT_NOTIFY_CHANNEL,
  PostgresEventStore,
  migrateEventStore,
  type PostgresEventStoreOptions,
} from './postgres-event-store';
export { describeActualRevision, describeExpectedRevision } from './append-plan';
export { createEventStore } from './create-event-store';
export { EventStoreDbEventStore, type EventStoreDbOptions } from './eventstoredb-event-store';
export {
  CheckpointedSubscriptionRunner,
  DEFAULT_SUBSCRIPTION_BATCH_SIZE,
  checkpointTable,
  forEachInSlices,
  type CheckpointRow,
  type CheckpointStore,
  type CheckpointedHandler,
  type CheckpointedSubscriptionOptions,
  type SubscriptionLogger,
  type SubscriptionObserver,
  type SubscriptionStatus,
} from './subscription-runner';
export {
  LiveGenerations,
  READ_MODEL_GENERATIONS_CHANNEL,
  beginGeneration,
  buildGeneration,
  completeGeneration,
  dropRetiredGeneration,
  generationCheckpoint,
  liveSchemasOf,
  migrateAsOwnerBesideGenerations,
  migrateReadModelGenerations,
  readGenerations,
  searchPathOf,
  searchPathOnCheckout,
  storageParameters,
  switchGeneration,
  type BuildGenerationOptions,
  type IndexBuilt,
  type IndexesAfterCatchUp,
  type BuildProgress,
  type ReadModelGeneration,
  type RebuildableReadModel,
} from './read-model-generations';
export {
  DEFAULT_SHARED_READ_EVENTS,
  SharedReadWindow,
  type SharedReadStats,
  type SharedReader,
} from './shared-read-window';
