import { DisclosureRefusedError } from './refusal';

/**
 * The differencing rule: two answers about cohorts that differ by a few children (all children
 * in care; all children in care except those in one ward) give away those few children by
 * subtraction. ONS protected Census 2021 against this with cell-key perturbation
 * (../shared/domain/ANALYSIS.md [9]); with exact answers the rule is to refuse: a cohort whose
 * size differs from one the same analyst had answered before by more than 0 and fewer than
 * `threshold` children is refused. The same size again is the same cohort or one no
 * subtraction can separate.
 *
 * Pure: the caller keeps the analyst's earlier exact cohort sizes (never published).
 */
export function differsByFewerThanThreshold(
  earlierSizes: readonly number[],
  size: number,
  threshold: number,
): boolean {
  return earlierSizes.some((earlier) => {
    const difference = Math.abs(size - earlier);
    return difference > 0 && difference < threshold;
  });
}

/** Throws DisclosureRefusedError (rule `differencing`) when the differencing rule refuses `size`. */
export function checkDifferencing(earlierSizes: readonly number[], size: number, threshold: number): void {
  if (differsByFewerThanThreshold(earlierSizes, size, threshold))
    throw new DisclosureRefusedError(
      'differencing',
      `this cohort differs from one of your earlier queries' cohorts by fewer than ${threshold} children, ` +
        'so comparing the two answers would disclose those children: widen or narrow it further',
    );
}
