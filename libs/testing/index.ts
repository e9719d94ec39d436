export * from './database';
export * from './events';
export * from './recorded';
