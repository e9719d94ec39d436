import { MARGIN_TOTAL } from '../types';
import type { Cell, DisclosureRules } from '../types';
import { roundingPreimage } from './rounding';

/**
 * An attacker for the tests, written apart from the audit it checks (no flows here: interval
 * propagation and a depth-first search over integers). It reads only what leaves (cells with
 * rounded counts, suppressed flags, reasons) and the published rules, and assumes it knows:
 * - a published count c > 0 is an exact count that rounds to c and is at least the threshold;
 *   a published 0 is a true zero;
 * - a suppressed cell with reason `below-threshold` is 1 … threshold − 1; any other suppressed
 *   cell is at least the threshold (an inner one at most `cap`, an artificial bound that only
 *   helps the attacker, so a test it passes holds without it);
 * - inner cells sum to their margins, and margins to the grand total.
 * For each primary-suppressed cell it lists the values that some whole integer table consistent
 * with all that gives it. Small tables only.
 */
export function attack(
  cells: readonly Cell[],
  groupBy: readonly string[],
  rules: DisclosureRules,
  cap = 80,
): ReadonlyMap<number, readonly number[]> {
  const t = rules.threshold;
  const isMargin = (cell: Cell) => groupBy.some((dimension) => cell.key[dimension] === MARGIN_TOTAL);
  const initial: [number, number][] = cells.map((cell) => {
    if (!cell.suppressed) {
      const count = cell.count ?? 0;
      if (count === 0) return [0, 0];
      const { lo, hi } = roundingPreimage(count, rules.roundingBase);
      return [Math.max(lo, t), hi];
    }
    if (cell.reason === 'below-threshold') return [1, t - 1];
    return [t, isMargin(cell) ? Number.MAX_SAFE_INTEGER / 4 : cap];
  });

  // Each relation: the cells at `parts` sum to the cell at `whole`.
  const relations: { parts: number[]; whole: number }[] = [];
  const find = (key: Record<string, string>) =>
    cells.findIndex((cell) => groupBy.every((dimension) => cell.key[dimension] === key[dimension]));
  const valuesOf = (dimension: string) =>
    [...new Set(cells.map((cell) => cell.key[dimension] ?? ''))].filter((value) => value !== MARGIN_TOTAL);
  if (groupBy.length === 1) {
    const [dimension] = groupBy as [string];
    relations.push({
      parts: valuesOf(dimension).map((value) => find({ [dimension]: value })),
      whole: find({ [dimension]: MARGIN_TOTAL }),
    });
  } else {
    const [rowDimension, columnDimension] = groupBy as [string, string];
    const rows = [...valuesOf(rowDimension), MARGIN_TOTAL];
    const columns = [...valuesOf(columnDimension), MARGIN_TOTAL];
    const at = (row: string, column: string) => find({ [rowDimension]: row, [columnDimension]: column });
    for (const row of rows)
      relations.push({
        parts: columns.slice(0, -1).map((column) => at(row, column)),
        whole: at(row, MARGIN_TOTAL),
      });
    for (const column of columns)
      relations.push({
        parts: rows.slice(0, -1).map((row) => at(row, column)),
        whole: at(MARGIN_TOTAL, column),
      });
  }
  const inner = cells.flatMap((cell, index) => (isMargin(cell) ? [] : [index]));

  /** Narrows every range by every relation until nothing changes; false when some range empties. */
  const propagate = (ranges: [number, number][]): boolean => {
    for (let pass = 0, changed = true; changed && pass < 10_000; pass += 1) {
      changed = false;
      for (const { parts, whole } of relations) {
        const sumLo = parts.reduce((sum, part) => sum + (ranges[part]?.[0] ?? 0), 0);
        const sumHi = parts.reduce((sum, part) => sum + (ranges[part]?.[1] ?? 0), 0);
        const total = ranges[whole] as [number, number];
        const narrowed: [number, number] = [Math.max(total[0], sumLo), Math.min(total[1], sumHi)];
        if (narrowed[0] > narrowed[1]) return false;
        if (narrowed[0] !== total[0] || narrowed[1] !== total[1]) {
          ranges[whole] = narrowed;
          changed = true;
        }
        for (const part of parts) {
          const range = ranges[part] as [number, number];
          const lo = Math.max(range[0], narrowed[0] - (sumHi - range[1]));
          const hi = Math.min(range[1], narrowed[1] - (sumLo - range[0]));
          if (lo > hi) return false;
          if (lo !== range[0] || hi !== range[1]) {
            ranges[part] = [lo, hi];
            changed = true;
          }
        }
      }
    }
    return true;
  };

  /** Is there a whole integer table within `ranges`? Fixes the narrowest open inner cell first. */
  const satisfiable = (ranges: [number, number][]): boolean => {
    if (!propagate(ranges)) return false;
    let open: number | undefined;
    for (const index of inner) {
      const [lo, hi] = ranges[index] as [number, number];
      if (lo < hi && (open === undefined || hi - lo < (ranges[open]?.[1] ?? 0) - (ranges[open]?.[0] ?? 0)))
        open = index;
    }
    if (open === undefined) return true;
    const [lo, hi] = ranges[open] as [number, number];
    for (let value = lo; value <= hi; value += 1) {
      const next = ranges.map((range) => [...range] as [number, number]);
      next[open] = [value, value];
      if (satisfiable(next)) return true;
    }
    return false;
  };

  const feasible = new Map<number, number[]>();
  cells.forEach((cell, index) => {
    if (cell.reason !== 'below-threshold') return;
    const values: number[] = [];
    for (let value = 1; value < t; value += 1) {
      const ranges = initial.map((range) => [...range] as [number, number]);
      ranges[index] = [value, value];
      if (satisfiable(ranges)) values.push(value);
    }
    feasible.set(index, values);
  });
  return feasible;
}
