/**
 * Rounding in integers (no floating-point halves): counts to the nearest multiple of the base,
 * halves up (ONS's "10-5 rule" rounds to 5, ../shared/domain/ANALYSIS.md [8]); percentages to one
 * decimal place as DfE's releases give them ([1]).
 */
export function roundToBase(count: number, base: number): number {
  return Math.floor((2 * count + base) / (2 * base)) * base;
}

/** The exact counts that round to `rounded` (what an attacker knows of a published count). */
export function roundingPreimage(
  rounded: number,
  base: number,
): { readonly lo: number; readonly hi: number } {
  return { lo: Math.max(0, rounded - Math.floor(base / 2)), hi: rounded + Math.ceil(base / 2) - 1 };
}

/** 100 × numerator / count to one decimal place, halves up, from the exact counts. */
export function percentage(numerator: number, count: number): number {
  return Math.floor((2000 * numerator + count) / (2 * count)) / 10;
}

/** A mean or median to one decimal place. */
export function oneDecimal(value: number): number {
  return Math.round(value * 10) / 10;
}
