/** Exports analysts' tools read (issue 15 item 5): a DfE-style tidy CSV or a typed Parquet file, and a data dictionary. */
export * from './tidy-table';
export * from './dictionary';
export * from './csv';
export { parquetBytes, PARQUET_DICTIONARY_KEY } from './parquet';
export * from './write-answer';
export * from './answer-schema';
export * from './command';
