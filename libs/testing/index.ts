export * from './database';
export * from './events';
export * from './recorded';
export * from './private-postgres';
export * from './private-kafka';
export * from './subject-flow';
export * from './event-store-contract';
export * from './prometheus';
