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

/** Year, month and day of a YYYY-MM-DD date, read digit by digit (called for every entry of a read). */
const digit = (date: string, at: number): number => date.charCodeAt(at) - 48;
const parts = (date: string): [number, number, number] => [
  digit(date, 0) * 1000 + digit(date, 1) * 100 + digit(date, 2) * 10 + digit(date, 3),
  digit(date, 5) * 10 + digit(date, 6),
  digit(date, 8) * 10 + digit(date, 9),
];

const termOfMonth = (month: number): Term => (month >= 9 ? 'autumn' : month <= 3 ? 'spring' : 'summer');
const academicYearFrom = (year: number, month: number): string => {
  const start = month >= 9 ? year : year - 1;
  return `${start}/${String((start + 1) % 100).padStart(2, '0')}`;
};

export function academicYearOf(date: string): string {
  const [year, month] = parts(date);
  return academicYearFrom(year, month);
}

export function termOf(date: string): Term {
  return termOfMonth(parts(date)[1]);
}

export function schoolPeriodOf(date: string): SchoolPeriod {
  const [year, month] = parts(date);
  return { academicYear: academicYearFrom(year, month), term: termOfMonth(month) };
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
