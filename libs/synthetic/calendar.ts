/** Calendar arithmetic on ISO dates (UTC days), pure. */

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of an ISO date. */
export function dayNumber(isoDate: string): number {
  return Math.floor(Date.parse(`${isoDate.slice(0, 10)}T00:00:00Z`) / DAY_MS);
}

export function isoDateOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(isoDate: string, days: number): string {
  return isoDateOf(dayNumber(isoDate) + days);
}

/** Same day of month `months` later, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb). */
export function addMonths(isoDate: string, months: number): string {
  const [year, month, day] = isoDate.split('-').map(Number);
  const target = new Date(Date.UTC(year, month - 1 + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.toISOString().slice(0, 10);
}

/** An ISO date-time on that day at the given minute of the day (UTC). */
export function atMinute(isoDate: string, minuteOfDay: number): string {
  const hours = String(Math.floor(minuteOfDay / 60)).padStart(2, '0');
  const minutes = String(minuteOfDay % 60).padStart(2, '0');
  return `${isoDate}T${hours}:${minutes}:00.000Z`;
}

/** Whole years of age on a date. */
export function ageInYears(dateOfBirth: string, onDate: string): number {
  const [by, bm, bd] = dateOfBirth.split('-').map(Number);
  const [y, m, d] = onDate.split('-').map(Number);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

/** The academic year (starting 1 September) a date falls in, by its starting calendar year. */
export function academicYearStart(isoDate: string): number {
  const [year, month] = isoDate.split('-').map(Number);
  return month >= 9 ? year : year - 1;
}

/** "2024/25" for the academic year starting in 2024. */
export function academicYearLabel(startYear: number): string {
  return `${startYear}/${String((startYear + 1) % 100).padStart(2, '0')}`;
}

/** A weekday on or after the date (Saturday and Sunday move to Monday). */
export function onWeekday(isoDate: string): string {
  const weekday = new Date(`${isoDate}T00:00:00Z`).getUTCDay();
  if (weekday === 6) return addDays(isoDate, 2);
  if (weekday === 0) return addDays(isoDate, 1);
  return isoDate;
}

/** An ISO date-time `minutes` later (or earlier, when negative). */
export function plusMinutes(isoDateTime: string, minutes: number): string {
  return new Date(Date.parse(isoDateTime) + minutes * 60_000).toISOString();
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

/** The later of two ISO dates. */
export function laterOf(a: string, b: string): string {
  return a > b ? a : b;
}

/** The earlier of two ISO dates. */
export function earlierOf(a: string, b: string): string {
  return a < b ? a : b;
}
