export * from './subject';
export * from './deterministic';
export * from './probabilistic';
export * from './events';
export * from './link-decision';
export * from './linker';
export * from './review';
