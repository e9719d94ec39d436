/**
 * Identifier check algorithms (see shared domain reference). Pure functions; the zod
 * schemas in this package call them so that a failing identifier is rejected with the rule.
 */

/** NHS number: 10 digits, weights 10..2 on digits 1..9, check = 11 − (sum mod 11); 11→0; 10 is never valid. */
export function isValidNhsNumber(value: string): boolean {
  if (!/^\d{10}$/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(value[i]) * (10 - i);
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  if (check === 10) return false;
  return check === Number(value[9]);
}

/** Display form "943 476 5919" to the canonical 10 digits. */
export function normaliseNhsNumber(value: string): string {
  return value.replace(/\s+/g, '');
}

const UPN_ALPHABET = 'ABCDEFGHJKLMNPQRTUVWXYZ';

function upnCharValue(char: string): number {
  if (/\d/.test(char)) return Number(char);
  return UPN_ALPHABET.indexOf(char);
}

/** The check letter a UPN's characters 2..13 call for. */
export function upnCheckLetter(value: string): string {
  let sum = 0;
  for (let position = 2; position <= 13; position++) sum += upnCharValue(value[position - 1]) * position;
  return UPN_ALPHABET[sum % 23];
}

/** UPN: permanent `[A-Z]\d{12}` or temporary `[A-Z]\d{11}[A-Z]`, check letter over positions 2..13. */
export function isValidUpn(value: string): boolean {
  if (!/^[A-Z]\d{11}[A-Z0-9]$/.test(value)) return false;
  const last = value[12];
  if (/[A-Z]/.test(last) && !UPN_ALPHABET.includes(last)) return false;
  return upnCheckLetter(value) === value[0];
}

/** Builds a valid permanent UPN from its 12 data characters (used by the synthetic generator). */
export function makeUpn(body12: string): string {
  if (!/^\d{11}[A-Z0-9]$/.test(body12)) throw new Error('UPN body must be 11 digits and a digit or letter');
  return upnCheckLetter(`?${body12}`) + body12;
}

/** Builds a valid NHS number from 9 digits, or undefined when those digits cannot make one (check 10). */
export function makeNhsNumber(first9: string): string | undefined {
  if (!/^\d{9}$/.test(first9)) throw new Error('NHS number stem must be 9 digits');
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(first9[i]) * (10 - i);
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  return check === 10 ? undefined : first9 + String(check);
}
