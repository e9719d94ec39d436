import { stringify } from 'csv-stringify/sync';
import { type DataDictionary, META_CSV_HEADER, metaRows } from './dictionary';
import { isMissing, type TidyTable, type TidyValue } from './tidy-table';

/**
 * RFC 4180 CSV through csv-stringify, as the governance reports write it (CRLF, formula
 * escaping: a text cell starting with = + - @ cannot become a spreadsheet formula; numbers stay
 * numbers) but WITHOUT a byte-order mark: these files are read by R's read.csv, which keeps a
 * BOM in the first column's name ("X.U.FEFF.time_period"), and by pandas and DuckDB; the data
 * are codes and numbers, and DfE's open-data standard asks for plain UTF-8.
 */
function csv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return stringify(
    rows.map((row) => [...row]),
    { header: true, columns: [...header], escape_formulas: true, record_delimiter: 'windows' },
  );
}

/** A tidy value as CSV text: the symbol for a figure not given, true/false, blank for none. */
function csvCell(value: TidyValue): string | number {
  if (value === null) return '';
  if (isMissing(value)) return value.symbol;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return value;
}

/** The data file: the tidy table's columns as the header, one line per cell. */
export function dataCsv(table: TidyTable): string {
  return csv(
    table.columns.map((column) => column.name),
    table.rows.map((row) => row.map(csvCell)),
  );
}

/** The `.meta.csv` data dictionary. */
export function metaCsv(dictionary: DataDictionary): string {
  return csv(META_CSV_HEADER, metaRows(dictionary));
}
