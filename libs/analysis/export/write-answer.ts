import { type AnalysisAnswer } from '../types';
import { dataCsv, metaCsv } from './csv';
import { type DataDictionary, datasetFacts, type DictionaryOptions } from './dictionary';
import { parquetBytes } from './parquet';
import { tidyTable } from './tidy-table';

/** The formats an answer is exported in (the CLI's --format, the HTTP download's `format`). */
export const EXPORT_FORMATS = ['csv', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportFile {
  /** A file name as DfE's standard wants them: lower case, letters, digits, underscores, one extension. */
  readonly name: string;
  readonly contentType: string;
  readonly bytes: Uint8Array;
}

export interface ExportedAnswer {
  /**
   * files[0] is the data (`<name>.csv` or `<name>.parquet`): the one attachment of an HTTP
   * download. files[1] is the data dictionary `<name>.meta.csv`, written beside it by the CLI.
   * A Parquet file carries the same dictionary in its own key-value metadata, so a download of
   * the Parquet alone loses nothing; a CSV download's dictionary is `dictionaryFile(answer)`.
   */
  readonly files: readonly [ExportFile, ExportFile];
}

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';
/** Registered with IANA for Parquet (2024). */
export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';

/**
 * The file name for an answer (no extension): the measure and what it is grouped by, e.g.
 * `re_referrals_12_months_by_age_band`. No period in it (DfE: names recyclable year on year),
 * nothing from the cohort (a name is seen in logs and download bars).
 */
export function exportBaseName(answer: AnalysisAnswer): string {
  const snake = (text: string) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '');
  const dimensions = answer.query.groupBy.filter((d) => d !== 'period').map(snake);
  const name = [
    snake(answer.measure.id) || 'measure',
    ...(dimensions.length ? ['by', ...dimensions] : []),
  ].join('_');
  return name.slice(0, 80).replace(/_+$/, '');
}

export function dataDictionary(answer: AnalysisAnswer, options: DictionaryOptions = {}): DataDictionary {
  return { columns: tidyTable(answer).columns, dataset: datasetFacts(answer, options) };
}

/** The `.meta.csv` alone (the second GET of a CSV download). */
export function dictionaryFile(answer: AnalysisAnswer, options: DictionaryOptions = {}): ExportFile {
  return {
    name: `${exportBaseName(answer)}.meta.csv`,
    contentType: CSV_CONTENT_TYPE,
    bytes: Buffer.from(metaCsv(dataDictionary(answer, options)), 'utf8'),
  };
}

/**
 * An answer (already through disclosure control) as files analysts' tools read: a DfE-style
 * tidy CSV or a typed Parquet file, and the data dictionary. The same cells, the same columns,
 * in both formats.
 */
export async function writeAnswer(
  answer: AnalysisAnswer,
  format: ExportFormat,
  options: DictionaryOptions = {},
): Promise<ExportedAnswer> {
  const table = tidyTable(answer);
  const dictionary: DataDictionary = { columns: table.columns, dataset: datasetFacts(answer, options) };
  const base = exportBaseName(answer);
  const meta: ExportFile = {
    name: `${base}.meta.csv`,
    contentType: CSV_CONTENT_TYPE,
    bytes: Buffer.from(metaCsv(dictionary), 'utf8'),
  };
  switch (format) {
    case 'csv':
      return {
        files: [
          { name: `${base}.csv`, contentType: CSV_CONTENT_TYPE, bytes: Buffer.from(dataCsv(table), 'utf8') },
          meta,
        ],
      };
    case 'parquet':
      return {
        files: [
          {
            name: `${base}.parquet`,
            contentType: PARQUET_CONTENT_TYPE,
            bytes: await parquetBytes(table, dictionary),
          },
          meta,
        ],
      };
  }
}
