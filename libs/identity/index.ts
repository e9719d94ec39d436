export * from './subject';
export * from './deterministic';
export * from './probabilistic';
export * from './events';
export * from './link-decision';
export * from './linker';
export { linkBatch, type LinkBatchResult } from './link-batch';
export type { PendingIdentityEvent } from './linker-events';
export * from './review';
