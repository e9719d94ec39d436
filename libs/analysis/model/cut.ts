import { createHmac } from 'node:crypto';
import { sexOf } from '@throughline/contracts';

/**
 * What the analysis model keeps of a child, cut so that it no longer identifies them: keyed
 * hashes instead of record ids, months instead of days, districts instead of postcodes, groups
 * instead of codes where the releases publish groups.
 */

/**
 * The analysis model's keyed hashes (HMAC-SHA256 under ANALYSIS_PSEUDONYM_KEY), domain-separated
 * so a record's reference and a child's pseudonym never coincide. Without the key neither can be
 * recomputed from a record id; with another key (another deployment) they differ.
 */
export class Pseudonymiser {
  constructor(private readonly key: string) {}

  /** The reference of an agency record (its store stream), never the stream id itself. */
  recordRef(streamId: string): string {
    return `r_${this.hmac('record', streamId).slice(0, 32)}`;
  }

  /** The pseudonym of the child a record founds: stable across rebuilds, since the founder is. */
  pseudonymOf(foundingStreamId: string): string {
    return `p_${this.hmac('child', foundingStreamId).slice(0, 24)}`;
  }

  private hmac(domain: string, value: string): string {
    return createHmac('sha256', this.key).update(`${domain}\u0000${value}`).digest('hex');
  }
}

/** The first day of the month of a YYYY-MM-DD date. */
export function monthOf(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

/** The outward code (district) of a UK postcode: "ZZ99 3AB" → "ZZ99"; undefined if not a postcode. */
export function postcodeDistrictOf(postcode: string | undefined): string | undefined {
  if (!postcode) return undefined;
  const compact = postcode.replace(/\s+/g, '').toUpperCase();
  const match = /^([A-Z]{1,2}\d[A-Z\d]?)\d[A-Z]{2}$/.exec(compact);
  return match?.[1];
}

/** Sex in words, whichever year's code list the event used (1/2/0/9 up to 2023-24, M/F/U after). */
export function sexGroupOf(code: string | undefined): 'male' | 'female' | 'unknown' | undefined {
  if (code === undefined) return undefined;
  return sexOf(code) ?? 'unknown';
}

export const ETHNICITY_GROUPS = [
  'white',
  'mixed',
  'asian',
  'black',
  'other',
  'refused',
  'not-obtained',
] as const;
export type EthnicityGroup = (typeof ETHNICITY_GROUPS)[number];

/**
 * The major ethnic group of a CIN census ethnicity code, as DfE's releases group them (White,
 * Mixed, Asian or Asian British, Black or Black British, any other ethnic group), with refused
 * and not yet obtained apart. Chinese is counted with Asian, as the 2011 census harmonised
 * standard the releases follow has it.
 */
export function ethnicityGroupOf(code: string): EthnicityGroup | undefined {
  if (code === 'REFU') return 'refused';
  if (code === 'NOBT') return 'not-obtained';
  if (code === 'CHNE') return 'asian';
  switch (code.charAt(0)) {
    case 'W':
      return 'white';
    case 'M':
      return 'mixed';
    case 'A':
      return 'asian';
    case 'B':
      return 'black';
    case 'O':
      return 'other';
    default:
      return undefined;
  }
}

export const SEN_STATUSES = ['none', 'sen-support', 'ehc-plan'] as const;
export type SenStatus = (typeof SEN_STATUSES)[number];

/** School census SEN provision N/K/E as a status. */
export function senStatusOf(provision: string): SenStatus | undefined {
  return provision === 'N'
    ? 'none'
    : provision === 'K'
      ? 'sen-support'
      : provision === 'E'
        ? 'ehc-plan'
        : undefined;
}

/** Completed months of age from an exact date of birth to a day; undefined before birth. */
export function ageInMonths(dateOfBirth: string, day: string): number | undefined {
  const [by, bm, bd] = dateOfBirth.split('-').map(Number);
  const [y, m, d] = day.split('-').map(Number);
  const months = (y - by) * 12 + (m - bm) - (d < bd ? 1 : 0);
  return months < 0 ? undefined : months;
}

/** A three-digit LA code, or undefined. */
export function laCodeOf(value: string | undefined): string | undefined {
  return value && /^\d{3}$/.test(value) ? value : undefined;
}
