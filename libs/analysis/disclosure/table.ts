import { MARGIN_TOTAL } from '../types';
import type { MeasureUnit, RawCell, RawResult } from '../types';

/**
 * A result laid out as the table it will be published as: its cells, for an additive result its
 * margins (row and column totals, grand total) computed from the exact counts, and the linear
 * relations an attacker could use. Those relations are written as a circulation: every cell is an
 * edge between two nodes and, at every node, what comes in equals what goes out. For a two-way
 * table with rows R_i and columns C_j:
 *
 *   S --row total i--> R_i --cell (i,j)--> C_j --column total j--> T --grand total--> S
 *
 * so conservation at R_i says a row's cells sum to its total, at C_j a column's, at T and S that
 * the totals sum to the grand total. A one-way table is S --cell--> H --total--> S. How far a
 * suppressed cell can move while every cell stays within what the attacker knows of it is then a
 * maximum flow (see protection.ts).
 */
export interface TableCell {
  readonly key: Readonly<Record<string, string>>;
  readonly margin: boolean;
  readonly count: number;
  /** Proportions: exact numerator. */
  readonly numerator?: number;
  /** Means: Σ value × count, from which a margin's mean comes; undefined where a cell has no value. */
  readonly weightedSum?: number;
  /** The value over the exact data (means, medians); margins of medians have none. */
  readonly value?: number;
  /**
   * Distinct children behind the cell where units are not children. For a margin the largest of
   * its cells' (a lower bound of its distinct children, so the threshold errs on suppressing).
   */
  readonly children?: number;
  /** Circulation edge (see above); unused when the table has no relations. */
  readonly from: number;
  readonly to: number;
}

export interface Table {
  readonly cells: readonly TableCell[];
  /** Rows and columns, margins included: index lists into `cells`. Empty when nothing is published that cells sum to. */
  readonly lines: readonly (readonly number[])[];
  /** Nodes of the circulation. */
  readonly nodes: number;
}

const MEAN_UNITS: ReadonlySet<MeasureUnit> = new Set(['mean-days', 'mean-rating']);

/** Fails loudly on a measure's bug: a key without exactly the result's dimensions, a key using MARGIN_TOTAL, two cells in one place. */
function checkKeys(raw: RawResult): void {
  const seen = new Set<string>();
  for (const cell of raw.cells) {
    const names = Object.keys(cell.key);
    if (
      names.length !== raw.groupBy.length ||
      raw.groupBy.some((dimension) => cell.key[dimension] === undefined)
    )
      throw new Error(
        `measure ${raw.measure}: a cell's key does not have exactly the dimensions ${raw.groupBy.join(', ')}`,
      );
    if (raw.groupBy.some((dimension) => cell.key[dimension] === MARGIN_TOTAL))
      throw new Error(
        `measure ${raw.measure}: a cell's key takes the value '${MARGIN_TOTAL}' kept for margins`,
      );
    const id = JSON.stringify(raw.groupBy.map((dimension) => cell.key[dimension]));
    if (seen.has(id)) throw new Error(`measure ${raw.measure}: two cells have the same key`);
    seen.add(id);
  }
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** A margin over `parts`, from their exact figures. */
function marginOf(
  unit: MeasureUnit,
  key: Record<string, string>,
  parts: readonly RawCell[],
  from: number,
  to: number,
): TableCell {
  const count = parts.reduce((sum, part) => sum + part.count, 0);
  const children = parts.some((part) => part.children !== undefined)
    ? Math.max(...parts.map((part) => part.children ?? part.count))
    : undefined;
  const numerator =
    unit === 'proportion' ? parts.reduce((sum, part) => sum + (part.numerator ?? 0), 0) : undefined;
  let weightedSum: number | undefined;
  if (MEAN_UNITS.has(unit) && parts.every((part) => part.count === 0 || part.value !== undefined))
    weightedSum = parts.reduce(
      (sum, part) => sum + (part.count === 0 ? 0 : (part.value ?? 0) * part.count),
      0,
    );
  const value = weightedSum !== undefined && count > 0 ? weightedSum / count : undefined;
  return { key, margin: true, count, numerator, weightedSum, value, children, from, to };
}

function interiorOf(unit: MeasureUnit, cell: RawCell, from: number, to: number): TableCell {
  const numerator = unit === 'proportion' ? (cell.numerator ?? 0) : undefined;
  const weightedSum = MEAN_UNITS.has(unit) && cell.value !== undefined ? cell.value * cell.count : undefined;
  return {
    key: cell.key,
    margin: false,
    count: cell.count,
    numerator,
    weightedSum,
    value: cell.value,
    children: cell.children,
    from,
    to,
  };
}

/**
 * The table of `raw`. An additive result grouped by one or two dimensions gets its margins, and a
 * two-way one its missing combinations as true zeros (a GROUP BY returns no row for them, and the
 * margins count them as nothing); a result that is not additive, or has no dimension, is its
 * cells alone, with no relation between them to protect.
 */
export function tableOf(raw: RawResult): Table {
  checkKeys(raw);
  const { unit, groupBy } = raw;
  if (!raw.additive || groupBy.length === 0)
    return { cells: raw.cells.map((cell) => interiorOf(unit, cell, 0, 0)), lines: [], nodes: 0 };

  if (groupBy.length === 1) {
    const [dimension] = groupBy as [string];
    const cells = raw.cells.map((cell) => interiorOf(unit, cell, 0, 1));
    cells.push(marginOf(unit, { [dimension]: MARGIN_TOTAL }, raw.cells, 1, 0));
    return { cells, lines: [cells.map((_, index) => index)], nodes: 2 };
  }

  const [rowDimension, columnDimension] = groupBy as [string, string];
  const rows = distinct(raw.cells.map((cell) => cell.key[rowDimension] ?? ''));
  const columns = distinct(raw.cells.map((cell) => cell.key[columnDimension] ?? ''));
  const byPlace = new Map(
    raw.cells.map((cell) => [`${cell.key[rowDimension]}\u0000${cell.key[columnDimension]}`, cell] as const),
  );
  const m = rows.length;
  const n = columns.length;
  const source = 0;
  const rowNode = (i: number) => 1 + i;
  const columnNode = (j: number) => 1 + m + j;
  const sink = 1 + m + n;

  // The grid, row-major, as RawCells (missing places as true zeros), then each row's total after it.
  const grid: RawCell[][] = rows.map((row) =>
    columns.map(
      (column) =>
        byPlace.get(`${row}\u0000${column}`) ?? {
          key: { [rowDimension]: row, [columnDimension]: column },
          count: 0,
          ...(unit === 'proportion' ? { numerator: 0 } : {}),
        },
    ),
  );
  const cells: TableCell[] = [];
  const rowLines: number[][] = [];
  const columnLines: number[][] = Array.from({ length: n + 1 }, () => []);
  grid.forEach((rowCells, i) => {
    const line: number[] = [];
    rowCells.forEach((cell, j) => {
      line.push(cells.length);
      columnLines[j]?.push(cells.length);
      cells.push(interiorOf(unit, cell, rowNode(i), columnNode(j)));
    });
    line.push(cells.length);
    columnLines[n]?.push(cells.length);
    cells.push(
      marginOf(
        unit,
        { [rowDimension]: rows[i] ?? '', [columnDimension]: MARGIN_TOTAL },
        rowCells,
        source,
        rowNode(i),
      ),
    );
    rowLines.push(line);
  });
  const totalLine: number[] = [];
  columns.forEach((column, j) => {
    totalLine.push(cells.length);
    columnLines[j]?.push(cells.length);
    const parts = grid.map((rowCells) => rowCells[j]).filter((cell): cell is RawCell => cell !== undefined);
    cells.push(
      marginOf(unit, { [rowDimension]: MARGIN_TOTAL, [columnDimension]: column }, parts, columnNode(j), sink),
    );
  });
  totalLine.push(cells.length);
  columnLines[n]?.push(cells.length);
  cells.push(
    marginOf(
      unit,
      { [rowDimension]: MARGIN_TOTAL, [columnDimension]: MARGIN_TOTAL },
      grid.flat(),
      sink,
      source,
    ),
  );
  rowLines.push(totalLine);
  return { cells, lines: [...rowLines, ...columnLines], nodes: sink + 1 };
}
