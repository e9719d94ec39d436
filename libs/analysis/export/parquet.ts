import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Types only (erased when compiled); the module itself is loaded on first use, below.
import type { DuckDBAppender } from '@duckdb/node-api';
import { type DataDictionary } from './dictionary';
import { isMissing, type TidyColumn, type TidyTable, type TidyValue } from './tidy-table';

/** The Parquet key-value metadata key holding the data dictionary as JSON ({ columns, dataset }). */
export const PARQUET_DICTIONARY_KEY = 'throughline.dictionary';

/** A SQL string literal (DuckDB: standard strings, a quote is doubled; no backslash escapes). */
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
const identifier = (name: string) => `"${name.replace(/"/g, '""')}"`;

function append(appender: DuckDBAppender, column: TidyColumn, value: TidyValue): void {
  if (value === null || isMissing(value)) return appender.appendNull();
  switch (column.parquetType) {
    case 'VARCHAR':
      return appender.appendVarchar(String(value));
    case 'INTEGER':
      return appender.appendInteger(Number(value));
    case 'DOUBLE':
      return appender.appendDouble(Number(value));
    case 'BOOLEAN':
      return appender.appendBoolean(value === true);
  }
}

/**
 * The tidy table as Parquet bytes, written by DuckDB (an in-memory database, one thread: the
 * machine is shared) with COPY … (FORMAT parquet): typed columns (VARCHAR, INTEGER, DOUBLE,
 * BOOLEAN, all nullable; a suppressed figure is NULL), snappy compression (every reader has it),
 * and the data dictionary as JSON in the file's key-value metadata under
 * PARQUET_DICTIONARY_KEY, so the one file describes itself. DuckDB writes to a file only, so it
 * goes through a private temporary directory, removed after.
 */
export async function parquetBytes(table: TidyTable, dictionary: DataDictionary): Promise<Uint8Array> {
  // Loaded here, not at the top: the native bindings are needed only when someone exports Parquet,
  // and everything importing @throughline/analysis (the projection app, the page's tests) would load them.
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const directory = await mkdtemp(join(tmpdir(), 'throughline-export-'));
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    const columns = table.columns.map((c) => `${identifier(c.name)} ${c.parquetType}`).join(', ');
    await connection.run(`CREATE TABLE answer (${columns})`);
    const appender = await connection.createAppender('answer');
    for (const row of table.rows) {
      table.columns.forEach((column, index) => append(appender, column, row[index]));
      appender.endRow();
    }
    appender.closeSync();
    const path = join(directory, 'answer.parquet');
    const metadata = literal(JSON.stringify({ columns: dictionary.columns, dataset: dictionary.dataset }));
    await connection.run(
      `COPY answer TO ${literal(path)} (FORMAT parquet, KV_METADATA { ${literal(PARQUET_DICTIONARY_KEY)}: ${metadata} })`,
    );
    return new Uint8Array(await readFile(path));
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(directory, { recursive: true, force: true });
  }
}
