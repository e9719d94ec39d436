export * from './database';
export * from './events';
