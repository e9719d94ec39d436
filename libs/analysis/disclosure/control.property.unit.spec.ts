import fc from 'fast-check';
import { MARGIN_TOTAL } from '../types';
import type { Cell, DisclosureRules, GroupBy, MeasureUnit, RawCell, RawResult } from '../types';
import { attack } from './attacker.spec-helper';
import { controlResult } from './control';
import { requiredValues } from './protection';
import { DisclosureRefusedError } from './refusal';
import { percentage, roundToBase } from './rounding';

/**
 * Property tests that act as an attacker (attacker.spec-helper.ts): for random small one- and
 * two-way tables, whatever the rules, no primary-suppressed cell can be narrowed by solving the
 * published table to fewer than requiredValues(rules) values (5 of 1 … 9 with the defaults), and
 * what is published is what the rules say.
 */

// Counts skewed to the small ones the rules are about: true zeros, 1 … 9, and a few larger.
const count = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 9 }) },
  { weight: 4, arbitrary: fc.integer({ min: 10, max: 40 }) },
);

const rules: fc.Arbitrary<DisclosureRules> = fc
  .record({
    threshold: fc.integer({ min: 3, max: 10 }),
    roundingBase: fc.constantFrom(1, 2, 3, 5, 10),
    minimumCohort: fc.constant(0),
  })
  .filter((candidate) => candidate.roundingBase <= 2 * candidate.threshold);

const ROWS = ['2021-22', '2022-23', '2023-24'];
const COLUMNS = ['under-1', '1-4', '5-9'];

function oneWay(counts: readonly number[], unit: MeasureUnit = 'count'): RawResult {
  const cells: RawCell[] = counts.map((value, i) => ({ key: { period: ROWS[i] ?? `p${i}` }, count: value }));
  return rawOf(['period'], cells, unit);
}

function twoWay(counts: readonly (readonly number[])[]): RawResult {
  const cells: RawCell[] = counts.flatMap((row, i) =>
    row.map((value, j) => ({ key: { period: ROWS[i] ?? '', 'age-band': COLUMNS[j] ?? '' }, count: value })),
  );
  return rawOf(['period', 'age-band'], cells, 'count');
}

function rawOf(groupBy: GroupBy[], cells: RawCell[], unit: MeasureUnit): RawResult {
  return {
    measure: 'test',
    unit,
    groupBy,
    period: 'financial-year',
    cohortSize: cells.reduce((sum, cell) => sum + cell.count, 0),
    additive: true,
    cells,
  };
}

/** The exact cell (count, numerator) a published cell stands for: a margin sums the cells it covers. */
function exactOf(raw: RawResult, cell: Cell): { count: number; numerator: number } {
  const covered = raw.cells.filter((rawCell) =>
    raw.groupBy.every(
      (dimension) => cell.key[dimension] === MARGIN_TOTAL || cell.key[dimension] === rawCell.key[dimension],
    ),
  );
  return {
    count: covered.reduce((sum, rawCell) => sum + rawCell.count, 0),
    numerator: covered.reduce((sum, rawCell) => sum + (rawCell.numerator ?? 0), 0),
  };
}

function expectProtected(raw: RawResult, disclosure: DisclosureRules): void {
  let cells: readonly Cell[];
  try {
    ({ cells } = controlResult(raw, disclosure));
  } catch (error) {
    // Refusing the table is a way of protecting it.
    if (error instanceof DisclosureRefusedError && error.rule === 'unprotectable') return;
    throw error;
  }
  expectOnlyWhatTheRulesAllow(raw, disclosure);
  const feasible = attack(cells, raw.groupBy, disclosure);
  const required = requiredValues(disclosure);
  cells.forEach((cell, index) => {
    const values = feasible.get(index);
    if (values === undefined) return;
    const exact = exactOf(raw, cell).count;
    // The attacker is sound (the truth fits what was published) and gets no closer than `required`.
    expect(values).toContain(exact);
    expect(values.length).toBeGreaterThanOrEqual(required);
  });
}

function expectOnlyWhatTheRulesAllow(raw: RawResult, disclosure: DisclosureRules): void {
  let cells: readonly Cell[];
  try {
    ({ cells } = controlResult(raw, disclosure));
  } catch (error) {
    if (error instanceof DisclosureRefusedError && error.rule === 'unprotectable') return;
    throw error;
  }
  for (const cell of cells) {
    const exact = exactOf(raw, cell);
    if (cell.suppressed) {
      expect(cell).toMatchObject({ count: null, value: null });
      // Complements: never a true zero, never the grand total, for a proportion never 0% or 100%.
      if (cell.reason === 'secondary') {
        expect(exact.count).toBeGreaterThanOrEqual(disclosure.threshold);
        expect(raw.groupBy.every((dimension) => cell.key[dimension] === MARGIN_TOTAL)).toBe(false);
        if (raw.unit === 'proportion') {
          expect(exact.numerator).toBeGreaterThanOrEqual(disclosure.threshold);
          expect(exact.count - exact.numerator).toBeGreaterThanOrEqual(disclosure.threshold);
        }
      }
      continue;
    }
    // Nothing below the threshold leaves; a count leaves rounded; a rate from the exact counts.
    expect(exact.count === 0 || exact.count >= disclosure.threshold).toBe(true);
    expect(cell.count).toBe(roundToBase(exact.count, disclosure.roundingBase));
    if (raw.unit === 'proportion') {
      const complement = exact.count - exact.numerator;
      expect(exact.numerator === 0 || exact.numerator >= disclosure.threshold).toBe(true);
      expect(complement === 0 || complement >= disclosure.threshold).toBe(true);
      expect(cell.numerator).toBe(roundToBase(exact.numerator, disclosure.roundingBase));
      expect(cell.value).toBe(exact.count === 0 ? null : percentage(exact.numerator, exact.count));
    }
  }
}

describe('disclosure control against an attacker solving the published table', () => {
  it('one-way tables: no primary-suppressed cell narrowed below the required number of values', () => {
    fc.assert(
      fc.property(fc.array(count, { minLength: 1, maxLength: 5 }), rules, (counts, disclosure) =>
        expectProtected(oneWay(counts), disclosure),
      ),
      { numRuns: 300 },
    );
  });

  it('two-way tables: no primary-suppressed cell narrowed below the required number of values', () => {
    const grid = fc
      .record({ rows: fc.integer({ min: 2, max: 3 }), columns: fc.integer({ min: 2, max: 3 }) })
      .chain(({ rows, columns }) =>
        fc.array(fc.array(count, { minLength: columns, maxLength: columns }), {
          minLength: rows,
          maxLength: rows,
        }),
      );
    fc.assert(
      fc.property(grid, rules, (counts, disclosure) => expectProtected(twoWay(counts), disclosure)),
      { numRuns: 200 },
    );
  });

  it('publishes nothing below the threshold, counts rounded, rates from the exact counts', () => {
    const proportionCells = fc.array(
      fc.record({ count, share: fc.double({ min: 0, max: 1, noNaN: true }) }),
      { minLength: 1, maxLength: 5 },
    );
    fc.assert(
      fc.property(proportionCells, rules, (cells, disclosure) => {
        const raw = oneWay(
          cells.map((cell) => cell.count),
          'proportion',
        );
        const withNumerators: RawResult = {
          ...raw,
          cells: raw.cells.map((cell, i) => ({
            ...cell,
            numerator: Math.round(cell.count * (cells[i]?.share ?? 0)),
          })),
        };
        expectOnlyWhatTheRulesAllow(withNumerators, disclosure);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.array(count, { minLength: 1, maxLength: 5 }), rules, (counts, disclosure) =>
        expectOnlyWhatTheRulesAllow(oneWay(counts), disclosure),
      ),
      { numRuns: 200 },
    );
    // Two-way proportions: the audit solves counts, numerators and complements alike.
    const proportionGrid = fc.array(
      fc.array(fc.record({ count, share: fc.double({ min: 0, max: 1, noNaN: true }) }), {
        minLength: 3,
        maxLength: 3,
      }),
      { minLength: 2, maxLength: 3 },
    );
    fc.assert(
      fc.property(proportionGrid, rules, (grid, disclosure) => {
        const raw = twoWay(grid.map((row) => row.map((cell) => cell.count)));
        const shares = grid.flat().map((cell) => cell.share);
        expectOnlyWhatTheRulesAllow(
          {
            ...raw,
            unit: 'proportion',
            cells: raw.cells.map((cell, i) => ({
              ...cell,
              numerator: Math.round(cell.count * (shares[i] ?? 0)),
            })),
          },
          disclosure,
        );
      }),
      { numRuns: 200 },
    );
  });
});
