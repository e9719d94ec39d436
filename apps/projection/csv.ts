import { stringify } from 'csv-stringify/sync';

/** One column of a CSV export: its header and how a row gives its cell. */
export interface CsvColumn<T> {
  readonly header: string;
  readonly cell: (row: T) => string | number | null | undefined;
}

/**
 * RFC 4180 CSV (csv-stringify), a header line first. Safe to open in a spreadsheet: a cell that
 * begins with = + - @, a tab or a carriage return is prefixed with ' (csv-stringify's
 * escape_formulas; numbers stay numbers), so no cell a user or publisher wrote can become a
 * formula. With a byte-order mark, so that spreadsheets read it as UTF-8.
 */
export function toCsv<T>(rows: readonly T[], columns: readonly CsvColumn<T>[]): string {
  return stringify(
    rows.map((row) => columns.map((column) => column.cell(row) ?? '')),
    {
      header: true,
      columns: columns.map((column) => column.header),
      escape_formulas: true,
      bom: true,
      record_delimiter: 'windows',
    },
  );
}

/** Whether a request asks for CSV: `?format=csv`, or an Accept header that prefers text/csv. */
export function wantsCsv(format: 'json' | 'csv' | undefined, accept: string | undefined): boolean {
  if (format !== undefined) return format === 'csv';
  if (!accept) return false;
  const first = accept.split(',')[0]?.split(';')[0]?.trim().toLowerCase();
  return first === 'text/csv';
}
