/**
 * School calendar and age, as practice reads them: autumn term 1 Sep–31 Dec, spring 1 Jan–31 Mar
 * (Easter moves; 31 March stands in for it), summer 1 Apr–31 Aug; academic year "2023/24".
 * Dates are calendar dates (YYYY-MM-DD); no time zone enters.
 */

export type Term = 'autumn' | 'spring' | 'summer';

export interface SchoolPeriod {
  readonly academicYear: string;
  readonly term: Term;
}

const parts = (date: string): [number, number, number] => [
  Number(date.slice(0, 4)),
  Number(date.slice(5, 7)),
  Number(date.slice(8, 10)),
];

export function academicYearOf(date: string): string {
  const [year, month] = parts(date);
  const start = month >= 9 ? year : year - 1;
  return `${start}/${String((start + 1) % 100).padStart(2, '0')}`;
}

export function termOf(date: string): Term {
  const [, month] = parts(date);
  if (month >= 9) return 'autumn';
  if (month <= 3) return 'spring';
  return 'summer';
}

export function schoolPeriodOf(date: string): SchoolPeriod {
  return { academicYear: academicYearOf(date), term: termOf(date) };
}

/** Completed years and months from `dateOfBirth` to `date`; undefined before birth. */
export function ageOn(dateOfBirth: string, date: string): { years: number; months: number } | undefined {
  const [by, bm, bd] = parts(dateOfBirth);
  const [y, m, d] = parts(date);
  let months = (y - by) * 12 + (m - bm);
  if (d < bd) months -= 1;
  if (months < 0) return undefined;
  return { years: Math.floor(months / 12), months: months % 12 };
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round(
    (Date.parse(`${to.slice(0, 10)}T00:00:00Z`) - Date.parse(`${from.slice(0, 10)}T00:00:00Z`)) / 86_400_000,
  );
}
