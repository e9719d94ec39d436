export * from './event-id';
export * from './importer';
export * from './subject';
export * from './registry';
export { exportCinCensus } from './cin-census/export';
export { exportSsda903 } from './ssda903/export';
export * from './export-command';
export * from './import-command';
