export * from './event-id';
export * from './importer';
export * from './subject';
