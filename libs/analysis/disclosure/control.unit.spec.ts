import { ThroughlineError } from '@throughline/platform';
import { DEFAULT_DISCLOSURE_RULES, MARGIN_TOTAL } from '../types';
import type { Cell, GroupBy, MeasureUnit, RawCell, RawResult } from '../types';
import { attack } from './attacker.spec-helper';
import { controlResult } from './control';
import { Circulation, requiredValues } from './protection';
import { DisclosureRefusedError } from './refusal';
import { percentage, roundingPreimage, roundToBase } from './rounding';

/** Worked examples, DfE-style (synthetic figures), with the default rules: threshold 10, base 5, cohort ≥ 20. */

function result(
  groupBy: GroupBy[],
  cells: RawCell[],
  options: { unit?: MeasureUnit; additive?: boolean; cohortSize?: number } = {},
): RawResult {
  return {
    measure: 'example',
    unit: options.unit ?? 'count',
    groupBy,
    period: 'financial-year',
    cohortSize: options.cohortSize ?? 500,
    additive: options.additive ?? true,
    cells,
  };
}

/** A compact view of the published cells: "key → count/value" or "key → c (reason)". */
function shown(cells: readonly Cell[]): string[] {
  return cells.map((cell) => {
    const key = Object.values(cell.key).join('/');
    if (cell.suppressed) return `${key} → c (${cell.reason})`;
    return cell.numerator === undefined
      ? `${key} → ${cell.count}/${cell.value}`
      : `${key} → ${cell.numerator} of ${cell.count} = ${cell.value}%`;
  });
}

const ageBand = (band: string, count: number): RawCell => ({ key: { 'age-band': band }, count });

describe('controlResult: worked examples', () => {
  it('children in need by age band: the one small cell and its smallest complement are suppressed, the total is rounded', () => {
    const answer = controlResult(
      result(
        ['age-band'],
        [
          ageBand('under-1', 4),
          ageBand('1-4', 52),
          ageBand('5-9', 88),
          ageBand('10-15', 121),
          ageBand('16-17', 37),
        ],
      ),
    );
    expect(answer.cohortSize).toBe(500);
    expect(shown(answer.cells)).toEqual([
      'under-1 → c (below-threshold)',
      '1-4 → 50/50',
      '5-9 → 90/90',
      '10-15 → 120/120',
      // 37, the smallest other cell: without it 4 = 302 − 52 − 88 − 121 − 37 within rounding.
      '16-17 → c (secondary)',
      'total → 300/300',
    ]);
  });

  it('a true zero is shown as 0, never suppressed nor used as a complement', () => {
    const answer = controlResult(
      result(
        ['age-band'],
        [ageBand('unborn', 0), ageBand('under-1', 6), ageBand('1-4', 40), ageBand('5-9', 45)],
      ),
    );
    expect(shown(answer.cells)).toEqual([
      'unborn → 0/0',
      'under-1 → c (below-threshold)',
      '1-4 → c (secondary)',
      '5-9 → 45/45',
      'total → 90/90',
    ]);
  });

  it('a complement exactly at the threshold is not enough when the rounding leaves no slack: the audit adds more', () => {
    // 1 and 10 suppressed, 13, 13 and 37 published as 15, 15, 35 would pin the 1: 35 + 2 − 13 − 13 = 11 = 1 + 10.
    const cells = [ageBand('under-1', 1), ageBand('1-4', 10), ageBand('5-9', 13), ageBand('10-15', 13)];
    const answer = controlResult(result(['age-band'], cells));
    expect(shown(answer.cells)).toEqual([
      'under-1 → c (below-threshold)',
      '1-4 → c (secondary)',
      '5-9 → c (secondary)',
      '10-15 → c (secondary)',
      'total → 35/35',
    ]);
    const feasible = attack(answer.cells, ['age-band'], DEFAULT_DISCLOSURE_RULES);
    expect(feasible.get(0)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('a two-way table: margins from the exact counts, rounded; a 2×2 with one small cell loses its whole inside', () => {
    const cell = (sex: string, band: string, count: number): RawCell => ({
      key: { sex, 'age-band': band },
      count,
    });
    const answer = controlResult(
      result(
        ['sex', 'age-band'],
        [cell('F', '1-4', 3), cell('F', '5-9', 22), cell('M', '1-4', 31), cell('M', '5-9', 47)],
      ),
    );
    expect(shown(answer.cells)).toEqual([
      'F/1-4 → c (below-threshold)',
      'F/5-9 → c (secondary)',
      'F/total → 25/25',
      'M/1-4 → c (secondary)',
      'M/5-9 → c (secondary)',
      'M/total → 80/80',
      'total/1-4 → 35/35',
      'total/5-9 → 70/70',
      'total/total → 105/105',
    ]);
    expect(
      answer.cells.find(
        (published) => published.key.sex === MARGIN_TOTAL && published.key['age-band'] === MARGIN_TOTAL,
      ),
    ).toMatchObject({ count: roundToBase(103, 5) });
  });

  it('a two-way table with a missing combination: a true zero inside, shown', () => {
    const cell = (period: string, band: string, count: number): RawCell => ({
      key: { period, 'age-band': band },
      count,
    });
    const answer = controlResult(
      result(
        ['period', 'age-band'],
        [cell('2022-23', '1-4', 40), cell('2022-23', '5-9', 50), cell('2023-24', '5-9', 60)],
      ),
    );
    expect(shown(answer.cells)).toEqual([
      '2022-23/1-4 → 40/40',
      '2022-23/5-9 → 50/50',
      '2022-23/total → 90/90',
      '2023-24/1-4 → 0/0',
      '2023-24/5-9 → 60/60',
      '2023-24/total → 60/60',
      'total/1-4 → 40/40',
      'total/5-9 → 110/110',
      'total/total → 150/150',
    ]);
  });

  it('proportions: the rate from the exact counts; suppressed when the numerator or its complement is small but not zero', () => {
    const period = (name: string, count: number, numerator: number): RawCell => ({
      key: { period: name },
      count,
      numerator,
    });
    const answer = controlResult(
      result(
        ['period'],
        [
          period('2019-20', 27, 13),
          period('2020-21', 120, 3),
          period('2021-22', 40, 36),
          period('2022-23', 60, 0),
          period('2023-24', 45, 45),
          period('2024-25', 8, 4),
        ],
        { unit: 'proportion', additive: false },
      ),
    );
    expect(shown(answer.cells)).toEqual([
      // 13 of 27 is 48.1%; from the rounded 15 of 25 it would be 60%.
      '2019-20 → 15 of 25 = 48.1%',
      '2020-21 → c (numerator-below-threshold)',
      '2021-22 → c (complement-below-threshold)',
      // 0 and 100% are true zeros of the numerator or its complement: shown (DfE).
      '2022-23 → 0 of 60 = 0%',
      '2023-24 → 45 of 45 = 100%',
      '2024-25 → c (below-threshold)',
    ]);
    expect(answer.cells[1]).toEqual({
      key: { period: '2020-21' },
      count: null,
      numerator: null,
      value: null,
      suppressed: true,
      reason: 'numerator-below-threshold',
    });
  });

  it('proportions in an additive table: the total rate from the exact sums', () => {
    const band = (name: string, count: number, numerator: number): RawCell => ({
      key: { 'age-band': name },
      count,
      numerator,
    });
    const answer = controlResult(
      result(['age-band'], [band('1-4', 52, 21), band('5-9', 88, 30), band('10-15', 121, 45)], {
        unit: 'proportion',
      }),
    );
    expect(shown(answer.cells)).toEqual([
      '1-4 → 20 of 50 = 40.4%',
      '5-9 → 30 of 90 = 34.1%',
      '10-15 → 45 of 120 = 37.2%',
      `total → 95 of 260 = ${percentage(96, 261)}%`,
    ]);
  });

  it('means: each cell and the margin from the exact data; a median margin has no value; few children suppress', () => {
    const cell = (name: string, count: number, value: number, children?: number): RawCell => ({
      key: { 'age-band': name },
      count,
      value,
      ...(children === undefined ? {} : { children }),
    });
    const mean = controlResult(
      result(['age-band'], [cell('1-4', 20, 31.25, 18), cell('5-9', 30, 40, 25), cell('10-15', 30, 12, 4)], {
        unit: 'mean-days',
      }),
    );
    expect(shown(mean.cells)).toEqual([
      '1-4 → c (secondary)',
      '5-9 → 30/40',
      // 30 plans of only 4 children: below the threshold on children.
      '10-15 → c (below-threshold)',
      // (31.25 × 20 + 40 × 30 + 12 × 30) / 80 = 27.3125.
      'total → 80/27.3',
    ]);
    const median = controlResult(
      result(['age-band'], [cell('1-4', 20, 31), cell('5-9', 30, 40)], { unit: 'median-days' }),
    );
    expect(shown(median.cells)).toEqual(['1-4 → 20/31', '5-9 → 30/40', 'total → 50/null']);
  });

  it('a result that is not additive gets no margins and no secondary suppression (no relation to solve)', () => {
    const term = (name: string, count: number): RawCell => ({ key: { 'relative-term': name }, count });
    const answer = controlResult(
      result(['relative-term'], [term('-1', 40), term('0', 7), term('1', 38)], { additive: false }),
    );
    expect(shown(answer.cells)).toEqual(['-1 → 40/40', '0 → c (below-threshold)', '1 → 40/40']);
  });

  it('a result with no grouping is its one cell', () => {
    const answer = controlResult(result([], [{ key: {}, count: 123 }], { cohortSize: 123 }));
    expect(answer).toEqual({
      cohortSize: 125,
      cells: [{ key: {}, count: 125, value: 125, suppressed: false }],
    });
  });
});

describe('controlResult: refusals and errors', () => {
  it('refuses a cohort under the minimum, naming the rule, without saying its size', () => {
    const refusal = (() => {
      try {
        controlResult(result([], [{ key: {}, count: 17 }], { cohortSize: 17 }));
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refusal).toBeInstanceOf(DisclosureRefusedError);
    expect(refusal).toMatchObject({
      rule: 'minimum-cohort',
      code: 'VALIDATION',
      httpStatus: 400,
      issues: [{ path: 'cohort', rule: 'minimum-cohort' }],
    });
    expect((refusal as Error).message).toContain('fewer than 20');
    expect((refusal as Error).message).not.toContain('17');
  });

  it('refuses a table that no suppression can protect', () => {
    // Threshold 3: 1 + 1 = 2, all below it; the reasons alone pin every cell.
    const rules = { threshold: 3, roundingBase: 1, minimumCohort: 0 };
    expect(() => controlResult(result(['age-band'], [ageBand('1-4', 1), ageBand('5-9', 1)]), rules)).toThrow(
      expect.objectContaining({ rule: 'unprotectable' }),
    );
  });

  it('nonsensical rules are a configuration error', () => {
    const raw = result([], [{ key: {}, count: 50 }]);
    for (const rules of [
      { threshold: 0, roundingBase: 5, minimumCohort: 20 },
      { threshold: 10, roundingBase: 0, minimumCohort: 20 },
      { threshold: 10, roundingBase: 2.5, minimumCohort: 20 },
      { threshold: 10, roundingBase: 25, minimumCohort: 20 },
      { threshold: 10, roundingBase: 5, minimumCohort: -1 },
    ])
      expect(() => controlResult(raw, rules)).toThrow(expect.objectContaining({ code: 'CONFIGURATION' }));
    expect(() => controlResult(raw, { threshold: 10, roundingBase: 25, minimumCohort: 20 })).toThrow(
      ThroughlineError,
    );
  });

  it("a measure's bug is loud: a key using the margins' value, a key missing a dimension, two cells in one place", () => {
    expect(() => controlResult(result(['age-band'], [ageBand(MARGIN_TOTAL, 40)]))).toThrow(
      /kept for margins/,
    );
    expect(() => controlResult(result(['age-band', 'sex'], [ageBand('1-4', 40)]))).toThrow(/dimensions/);
    expect(() => controlResult(result(['age-band'], [ageBand('1-4', 40), ageBand('1-4', 50)]))).toThrow(
      /same key/,
    );
  });
});

describe('rounding', () => {
  it('to the nearest multiple of the base, halves up, in integers', () => {
    expect([0, 2, 3, 7, 8, 12, 13, 302].map((count) => roundToBase(count, 5))).toEqual([
      0, 0, 5, 5, 10, 10, 15, 300,
    ]);
    expect([4, 5, 14, 15, 25].map((count) => roundToBase(count, 10))).toEqual([0, 10, 10, 20, 30]);
    expect(roundToBase(17, 1)).toBe(17);
  });

  it('the preimage is exactly the counts that round to it', () => {
    for (const base of [1, 2, 3, 5, 10])
      for (let count = 0; count < 60; count += 1) {
        const { lo, hi } = roundingPreimage(roundToBase(count, base), base);
        expect(count).toBeGreaterThanOrEqual(lo);
        expect(count).toBeLessThanOrEqual(hi);
        expect(roundToBase(lo, base)).toBe(roundToBase(count, base));
        expect(roundToBase(hi, base)).toBe(roundToBase(count, base));
        if (lo > 0) expect(roundToBase(lo - 1, base)).not.toBe(roundToBase(count, base));
        expect(roundToBase(hi + 1, base)).not.toBe(roundToBase(count, base));
      }
  });

  it('percentages to one decimal place, halves up, from exact counts', () => {
    expect(percentage(1, 8)).toBe(12.5);
    expect(percentage(1, 3)).toBe(33.3);
    expect(percentage(2, 3)).toBe(66.7);
    expect(percentage(1, 2000)).toBe(0.1);
    expect(percentage(45, 45)).toBe(100);
  });
});

describe('the audit', () => {
  it('the required width: the rounding base, at least 2, at most threshold − 1', () => {
    expect(requiredValues(DEFAULT_DISCLOSURE_RULES)).toBe(5);
    expect(requiredValues({ threshold: 10, roundingBase: 1, minimumCohort: 0 })).toBe(2);
    expect(requiredValues({ threshold: 4, roundingBase: 5, minimumCohort: 0 })).toBe(3);
  });

  it('a circulation gives a cell the exact range the other cells leave it', () => {
    // One-way: x (1…9) + y (10…∞) = total (28…32), true 3 + 27 = 30.
    const circulation = new Circulation(2, [
      { from: 0, to: 1, lo: 1, hi: 9, value: 3 },
      { from: 0, to: 1, lo: 10, hi: 2 ** 40, value: 27 },
      { from: 1, to: 0, lo: 28, hi: 32, value: 30 },
    ]);
    expect(circulation.span(0, 100)).toEqual({ below: 2, above: 6 });
    expect(circulation.span(2, 100)).toEqual({ below: 2, above: 2 });
    expect(circulation.span(0, 3)).toEqual({ below: 2, above: 3 });
  });
});
