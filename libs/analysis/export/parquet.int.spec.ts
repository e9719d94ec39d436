import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { answerOf, smallAnswer } from './answer.test-helper';
import { PARQUET_DICTIONARY_KEY } from './parquet';
import { dataDictionary, writeAnswer } from './write-answer';

// Written by DuckDB, read back by a separate DuckDB instance from the file on disk, as an analyst
// would: the types, the NULLs of suppressed figures, the rows, and the dictionary in the metadata.
describe('the Parquet export read back with DuckDB', () => {
  let directory: string;
  let instance: DuckDBInstance;
  let reader: DuckDBConnection;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'parquet-export-test-'));
    instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    reader = await instance.connect();
  });
  afterAll(async () => {
    reader.closeSync();
    instance.closeSync();
    await rm(directory, { recursive: true, force: true });
  });

  async function written(answer = smallAnswer): Promise<string> {
    const { files } = await writeAnswer(answer, 'parquet', { generatedAt: new Date('2026-12-02T10:00:00Z') });
    expect(files.map((f) => [f.name, f.contentType])).toEqual([
      [expect.stringMatching(/\.parquet$/), 'application/vnd.apache.parquet'],
      [expect.stringMatching(/\.meta\.csv$/), 'text/csv; charset=utf-8'],
    ]);
    // Parquet's magic number at both ends.
    expect(Buffer.from(files[0].bytes.subarray(0, 4)).toString()).toBe('PAR1');
    const path = join(directory, files[0].name);
    await writeFile(path, files[0].bytes);
    return path;
  }

  const rows = async (sql: string) => (await reader.runAndReadAll(sql)).getRowObjectsJS();

  it('has typed, nullable columns: text filters, integer counts, a double value, a boolean flag', async () => {
    const path = await written();
    const schema = await rows(
      `SELECT name, type, converted_type FROM parquet_schema('${path}') WHERE name <> 'duckdb_schema'`,
    );
    expect(schema).toEqual([
      { name: 'time_period', type: 'BYTE_ARRAY', converted_type: 'UTF8' },
      { name: 'time_identifier', type: 'BYTE_ARRAY', converted_type: 'UTF8' },
      { name: 'age_band', type: 'BYTE_ARRAY', converted_type: 'UTF8' },
      { name: 'count', type: 'INT32', converted_type: 'INT_32' },
      { name: 'numerator', type: 'INT32', converted_type: 'INT_32' },
      { name: 'value', type: 'DOUBLE', converted_type: null },
      { name: 'suppressed', type: 'BOOLEAN', converted_type: null },
      { name: 'suppression_reason', type: 'BYTE_ARRAY', converted_type: 'UTF8' },
    ]);
    const described = await rows(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    expect(described.map((c) => [c.column_name, c.column_type, c.null])).toEqual([
      ['time_period', 'VARCHAR', 'YES'],
      ['time_identifier', 'VARCHAR', 'YES'],
      ['age_band', 'VARCHAR', 'YES'],
      ['count', 'INTEGER', 'YES'],
      ['numerator', 'INTEGER', 'YES'],
      ['value', 'DOUBLE', 'YES'],
      ['suppressed', 'BOOLEAN', 'YES'],
      ['suppression_reason', 'VARCHAR', 'YES'],
    ]);
  });

  it('holds the same cells as the CSV, with NULL where the CSV has c or z', async () => {
    const path = await written();
    expect(await rows(`SELECT * FROM read_parquet('${path}')`)).toEqual([
      {
        time_period: '202324',
        time_identifier: 'Financial year',
        age_band: '1-4',
        count: 45,
        numerator: 10,
        value: 22.7,
        suppressed: false,
        suppression_reason: null,
      },
      {
        time_period: '202324',
        time_identifier: 'Financial year',
        age_band: '5-9',
        count: null,
        numerator: null,
        value: null,
        suppressed: true,
        suppression_reason: 'below-threshold',
      },
      {
        time_period: '202324',
        time_identifier: 'Financial year',
        age_band: '10-15',
        count: 30,
        numerator: null,
        value: null,
        suppressed: true,
        suppression_reason: 'numerator-below-threshold',
      },
      {
        time_period: '202425',
        time_identifier: 'Financial year',
        age_band: 'Total',
        count: 80,
        numerator: 25,
        value: 31.3,
        suppressed: false,
        suppression_reason: null,
      },
      {
        time_period: '202425',
        time_identifier: 'Financial year',
        age_band: '16-17',
        count: 0,
        numerator: 0,
        value: null,
        suppressed: false,
        suppression_reason: null,
      },
    ]);
    // What an analyst does first: the suppressed rows are the ones without a value, and sums skip them.
    expect(
      await rows(
        `SELECT sum(count)::INTEGER AS shown, count(*) FILTER (WHERE suppressed) AS withheld FROM '${path}'`,
      ),
    ).toEqual([{ shown: 155, withheld: 2n }]);
  });

  it('carries the data dictionary as JSON in its key-value metadata', async () => {
    const path = await written();
    const metadata = await rows(
      `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${path}')`,
    );
    const entry = metadata.find((m) => m.key === PARQUET_DICTIONARY_KEY);
    expect(entry).toBeDefined();
    const dictionary = JSON.parse(String(entry?.value)) as ReturnType<typeof dataDictionary>;
    expect(dictionary).toEqual(
      JSON.parse(
        JSON.stringify(dataDictionary(smallAnswer, { generatedAt: new Date('2026-12-02T10:00:00Z') })),
      ),
    );
    expect(dictionary.dataset.find((f) => f.key === 'definition')?.value).toMatch(
      /^Referrals in the year within 12 months/,
    );
    expect(dictionary.columns.map((c) => c.name)).toContain('suppression_reason');
  });

  it('types relative terms as integers and keeps LA codes as text (leading zeros)', async () => {
    const path = await written(
      answerOf(
        [
          {
            key: { 'local-authority': '091', 'relative-term': '-4' },
            count: 40,
            numerator: 12,
            value: 30,
            suppressed: false,
          },
          {
            key: { 'local-authority': '091', 'relative-term': '+2' },
            count: null,
            numerator: null,
            value: null,
            suppressed: true,
            reason: 'secondary',
          },
        ],
        { groupBy: ['local-authority', 'relative-term'] },
      ),
    );
    expect(
      await rows(`SELECT old_la_code, relative_term, typeof(relative_term) AS t, count FROM '${path}'`),
    ).toEqual([
      { old_la_code: '091', relative_term: -4, t: 'INTEGER', count: 40 },
      { old_la_code: '091', relative_term: 2, t: 'INTEGER', count: null },
    ]);
  });

  it('writes an answer with no cells as a file with the columns and no rows', async () => {
    const path = await written(answerOf([]));
    expect(await rows(`SELECT count(*) AS n FROM '${path}'`)).toEqual([{ n: 0n }]);
    expect((await rows(`DESCRIBE SELECT * FROM '${path}'`)).length).toBe(8);
  });
});
