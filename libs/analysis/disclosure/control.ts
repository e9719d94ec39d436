import { ThroughlineError } from '@throughline/platform';
import { DEFAULT_DISCLOSURE_RULES, MARGIN_TOTAL } from '../types';
import type { Cell, DisclosureRules, MeasureUnit, RawResult, SuppressionReason } from '../types';
import { underProtected } from './protection';
import { DisclosureRefusedError } from './refusal';
import { oneDecimal, percentage, roundToBase } from './rounding';
import { tableOf } from './table';
import type { Table, TableCell } from './table';

/** What may leave: the cohort size and the cells, both after disclosure control. */
export interface ControlledResult {
  /** Rounded as counts are. */
  readonly cohortSize: number;
  readonly cells: readonly Cell[];
}

/** Rules come from configuration; a nonsensical one is a set-up error, not the analyst's. */
function checkRules(rules: DisclosureRules): void {
  const problems = [
    ...(Number.isInteger(rules.threshold) && rules.threshold >= 1
      ? []
      : ['threshold must be an integer ≥ 1']),
    ...(Number.isInteger(rules.roundingBase) && rules.roundingBase >= 1
      ? []
      : ['roundingBase must be an integer ≥ 1']),
    ...(Number.isInteger(rules.minimumCohort) && rules.minimumCohort >= 0
      ? []
      : ['minimumCohort must be an integer ≥ 0']),
    // A count at the threshold must not round to 0, which is kept for true zeros.
    ...(rules.roundingBase <= 2 * rules.threshold ? [] : ['roundingBase must be at most 2 × threshold']),
  ];
  if (problems.length > 0)
    throw new ThroughlineError('CONFIGURATION', `disclosure rules: ${problems.join('; ')}`);
}

/**
 * Primary suppression, DfE-style (../shared/domain/ANALYSIS.md [1], [6]) with the threshold of
 * ONS's 10-5 rule ([8]): a cell (a margin too) with fewer than `threshold` units, or distinct
 * children where units are not children, but not none; for a proportion also one whose
 * numerator, or whose complement (count − numerator), is below the threshold but not zero, since
 * either gives away a few children's condition. Zeros are true zeros and are shown.
 */
function primaryReason(cell: TableCell, unit: MeasureUnit, threshold: number): SuppressionReason | undefined {
  if (cell.count === 0) return undefined;
  if ((cell.children ?? cell.count) < threshold) return 'below-threshold';
  if (unit === 'proportion') {
    const numerator = cell.numerator ?? 0;
    const complement = cell.count - numerator;
    if (numerator > 0 && numerator < threshold) return 'numerator-below-threshold';
    if (complement > 0 && complement < threshold) return 'complement-below-threshold';
  }
  return undefined;
}

/**
 * Whether a cell may be a complementary one. Not the grand total. Not a true zero, which would
 * then be mistaken for a suppressed figure of at least the threshold. For a proportion, not 0% or
 * 100% either: the rule being public, an attacker then knows a complementary cell's numerator and
 * complement are both at least the threshold, rather than "0 or at least the threshold", which
 * the audit (a flow over intervals) could not model.
 */
function mayComplement(cell: TableCell, unit: MeasureUnit): boolean {
  if (cell.count === 0) return false;
  // The grand total stays: the cohort size, published rounded, is that total for many measures.
  if (cell.margin && Object.values(cell.key).every((value) => value === MARGIN_TOTAL)) return false;
  if (unit !== 'proportion') return true;
  const numerator = cell.numerator ?? 0;
  return numerator > 0 && cell.count - numerator > 0;
}

/**
 * The complementary cell for a line (or cells) that needs one more suppression: unsuppressed,
 * allowed by mayComplement, an inner cell before a margin (a total is worth more to the analyst),
 * and the smallest count (the least information lost), first in table order on a tie.
 */
function complementAmong(
  candidates: readonly number[],
  table: Table,
  reasons: readonly (SuppressionReason | undefined)[],
  unit: MeasureUnit,
): number | undefined {
  let best: number | undefined;
  for (const index of candidates) {
    const cell = table.cells[index];
    if (cell === undefined || reasons[index] !== undefined || !mayComplement(cell, unit)) continue;
    const current = best === undefined ? undefined : table.cells[best];
    if (
      current === undefined ||
      (current.margin && !cell.margin) ||
      (current.margin === cell.margin && cell.count < current.count)
    )
      best = index;
  }
  return best;
}

/**
 * Secondary suppression over an additive table's rows and columns (margins included), until
 * stable: (1) a line with exactly one suppressed cell gets the complementary cell that
 * complementAmong picks, since its total minus its other cells would give that one away; (2)
 * when no line has one, the audit (protection.ts) solves the table as an attacker would and any
 * primary cell left narrower than requiredValues gets a further complement in one of its lines
 * (anywhere, when its lines have none left). Suppressions only grow, so this ends. Returns the
 * primary cells still exposed when nothing is left to suppress.
 */
function suppressSecondary(
  table: Table,
  reasons: (SuppressionReason | undefined)[],
  rules: DisclosureRules,
  unit: MeasureUnit,
): readonly number[] {
  const linesOf = table.cells.map(() => [] as number[]);
  table.lines.forEach((line, lineIndex) => line.forEach((index) => linesOf[index]?.push(lineIndex)));
  const suppress = (index: number) => {
    reasons[index] = 'secondary';
  };
  for (;;) {
    let changed = false;
    for (const line of table.lines) {
      if (line.filter((index) => reasons[index] !== undefined).length !== 1) continue;
      const complement = complementAmong(line, table, reasons, unit);
      if (complement !== undefined) {
        suppress(complement);
        changed = true;
      }
    }
    if (changed) continue;

    const exposed = underProtected(table, reasons, rules, unit);
    // One complement per line per round: one often protects several cells of its line.
    const linesTouched = new Set<number>();
    for (const index of exposed) {
      const lines = linesOf[index] ?? [];
      if (lines.some((lineIndex) => linesTouched.has(lineIndex))) continue;
      const complement =
        complementAmong(
          lines.flatMap((lineIndex) => table.lines[lineIndex] ?? []),
          table,
          reasons,
          unit,
        ) ??
        complementAmong(
          table.cells.map((_, any) => any),
          table,
          reasons,
          unit,
        );
      if (complement === undefined) continue;
      suppress(complement);
      changed = true;
      for (const lineIndex of [...lines, ...(linesOf[complement] ?? [])]) linesTouched.add(lineIndex);
    }
    if (!changed) return exposed;
  }
}

function valueOf(cell: TableCell, unit: MeasureUnit, rules: DisclosureRules): number | null {
  switch (unit) {
    case 'count':
      return roundToBase(cell.count, rules.roundingBase);
    case 'proportion':
      return cell.count === 0 ? null : percentage(cell.numerator ?? 0, cell.count);
    case 'mean-days':
    case 'median-days':
    case 'mean-rating':
      return cell.count === 0 || cell.value === undefined ? null : oneDecimal(cell.value);
  }
}

function published(
  cell: TableCell,
  reason: SuppressionReason | undefined,
  unit: MeasureUnit,
  rules: DisclosureRules,
): Cell {
  if (reason !== undefined)
    return {
      key: cell.key,
      count: null,
      ...(unit === 'proportion' ? { numerator: null } : {}),
      value: null,
      suppressed: true,
      reason,
    };
  return {
    key: cell.key,
    count: roundToBase(cell.count, rules.roundingBase),
    ...(unit === 'proportion' ? { numerator: roundToBase(cell.numerator ?? 0, rules.roundingBase) } : {}),
    value: valueOf(cell, unit, rules),
    suppressed: false,
  };
}

/**
 * Disclosure control of one result (issue 15 item 4; the rules and their sources are in
 * libs/analysis/disclosure/README.md). Refuses (DisclosureRefusedError) a cohort under the
 * minimum (rule `minimum-cohort`) and a table no suppression can protect (`unprotectable`);
 * otherwise publishes every cell (and an additive result's margins) with counts rounded to the
 * base, values computed from the exact counts, and whatever could disclose a few children
 * suppressed, a suppressed cell's count, numerator and value together.
 */
export function controlResult(
  raw: RawResult,
  rules: DisclosureRules = DEFAULT_DISCLOSURE_RULES,
): ControlledResult {
  checkRules(rules);
  if (raw.cohortSize < rules.minimumCohort)
    throw new DisclosureRefusedError(
      'minimum-cohort',
      `the cohort has fewer than ${rules.minimumCohort} children, the minimum for an answer: widen it`,
    );
  const table = tableOf(raw);
  const reasons = table.cells.map((cell) => primaryReason(cell, raw.unit, rules.threshold));
  if (table.lines.length > 0) {
    const exposed = suppressSecondary(table, reasons, rules, raw.unit);
    // Nothing left to suppress and still a cell pinned down (a tiny table whose reasons and true
    // zeros say it all): no answer rather than a disclosive one.
    if (exposed.length > 0)
      throw new DisclosureRefusedError(
        'unprotectable',
        'this grouping has cells that suppression cannot protect: group by fewer dimensions or widen the cohort',
      );
  }
  return {
    cohortSize: roundToBase(raw.cohortSize, rules.roundingBase),
    cells: table.cells.map((cell, index) => published(cell, reasons[index], raw.unit, rules)),
  };
}
