export {
  PUBLISHER_HEADER,
  RECORDED_BY,
  checkpointNameOf,
  deadLetterOf,
  groupByStream,
  isRefusedByStore,
  lineageOf,
  planBatch,
  reasonOf,
  storeRejectionIssues,
  type AcceptedMessage,
  type BatchPlan,
  type DeadLetter,
  type DeadLetterReason,
  type IncomingBatch,
  type IncomingMessage,
  type Lineage,
} from './batch-plan';
export {
  DEAD_LETTER_HEADERS,
  deadLetterKafkaMessage,
  readableValue,
  type DeadLetterKafkaMessage,
  type DeadLetterView,
  type ReadableValue,
} from './dead-letter-message';
export {
  DEFAULT_DEAD_LETTER_LIMIT,
  MAX_DEAD_LETTER_LIMIT,
  PostgresDeadLetters,
  recordingMigrationsDirectory,
  type DeadLetterPage,
  type ListDeadLettersOptions,
} from './postgres-dead-letters';
export {
  Recorder,
  type DeadLetterStore,
  type RecorderLogger,
  type RecorderMetrics,
  type RecorderOptions,
  type RecorderState,
} from './recorder';
