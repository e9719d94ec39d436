import { isValidNhsNumber, isValidUpn, makeNhsNumber, makeUpn } from '@throughline/contracts';
import { soundex } from '@throughline/identity';

/**
 * The scale stage's store is many copies of one synthetic template cohort (the generator allows
 * at most 999 UPNs per school and entry year, so it cannot make 100,000 children itself). Each
 * copy is the template's events with every identifier made the copy's own, the same way in every
 * event of the copy, so a copy is internally consistent (its records link to each other as the
 * template's do) and shares nothing with another copy:
 *
 * - event ids and every other UUID (causation ids, decision ids): the first 8 hex digits moved
 *   on by the copy number times an odd constant (unique per template UUID and copy);
 * - record ids (`CHIS-`, `MIS-<urn>-`, `SEN<la>-`, `LA<la>-`) and the LA child id (also the
 *   neighbouring authority's `LF…` of a child who moved there): the child number n of the
 *   template becomes `k × templateChildren + n`;
 * - valid NHS numbers: the template's j-th distinct one becomes the (k × J + j)-th valid number
 *   of the 999 test range (invalid ones, as keyed wrongly on purpose, stay as they are);
 * - valid UPNs (permanent and temporary): the establishment part becomes one of the copy's
 *   own (1000 + k × E + e), the check letter recomputed;
 * - family names: copy k > 0 has family names of its own, each with a Soundex code no other
 *   copy's name and no template name has (the template has only 16 names, and a real population
 *   thousands of codes), so the linker's family-name blocks hold one copy's children, as they
 *   would hold one register's Smiths, and not every copy's;
 * - postcodes: copy k > 0 puts each of the template's postcode areas (ZZ, ZY) under an area of
 *   its own (Q, V and X begin no real area), the district number and the inward code kept, so
 *   the linker's district blocks hold one copy's children, as a real authority's dozens of
 *   districts would, and not every copy's (the template has nine districts);
 * - dates (of birth and of every event, timestamps included): moved k × 29 days earlier, so the
 *   copy's children are born on other days and live the same history at the same ages (a
 *   return's `yearEnding`, always a 31 March, stays).
 *
 * Before these, copy k and copy k + 16 of a child (family names rotated through the
 * template's 16) shared given name, family name, date of birth and postcode, and two copies
 * shared all but the family name: the linker rightly proposed them as one child, 461,611
 * proposals at 100,000 children. Given names and everything else are the template's: the
 * copies are the same histories lived by other children.
 */
const UUID_SHIFT = 0x9e3779b1;
const PATTERN = new RegExp(
  [
    '([0-9a-f]{8})(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})',
    '\\b(CHIS-|MIS-\\d{6}-|SEN\\d{3}-|LA\\d{3}-)(\\d{6})\\b',
    '("laChildId":"[A-Z]*)(\\d{6})"',
    '"(\\d{10})"',
    '"([A-Z]\\d{11}[A-Z0-9])"',
    '("family":")([^"\\\\]*)"',
    '("postcode":")([^"\\\\]*)"',
    '("yearEnding":"\\d{4}-\\d{2}-\\d{2}")',
    '(?<![\\d-])(\\d{4}-\\d{2}-\\d{2})(?!\\d)',
  ].join('|'),
  'g',
);

const NHS_RANGE_START = 999_000_000;
/**
 * The copies' family names, made up from a Soundex code: an initial, then a vowel and a consonant
 * of each of the code's three digits (a vowel between keeps every digit), so two codes never
 * give one name. 18 initials × 6³ digits: 3,888 codes, 3,184 of them needed by 200 copies of a
 * template of 16 names. The consonants and vowels only vary the spelling.
 */
const FAMILY_INITIALS = [...'BDFGHKLMNPRSTWACEO'];
const CONSONANTS_BY_DIGIT = [
  ['b', 'f', 'p', 'v'],
  ['c', 'g', 'k', 's'],
  ['d', 't'],
  ['l'],
  ['m', 'n'],
  ['r'],
];
const VOWELS = [...'aeiou'];
const FAMILY_CODES = FAMILY_INITIALS.length * 6 ** 3;

/** The n-th made-up family name (n < FAMILY_CODES): the initial turns fastest, then each digit. */
function composedFamily(n: number): string {
  const digits = [0, 1, 2].map((place) => Math.floor(n / FAMILY_INITIALS.length / 6 ** place) % 6);
  const syllables = digits.map((digit, place) => {
    const consonants = CONSONANTS_BY_DIGIT[digit];
    return VOWELS[(n + place * 2) % VOWELS.length] + consonants[(n + place) % consonants.length];
  });
  return `${FAMILY_INITIALS[n % FAMILY_INITIALS.length]}${syllables.join('')}${n % 3 === 0 ? 'e' : ''}`;
}

/** Days each copy's dates move back by, per copy: a month or so, so dates of birth differ in day and month. */
const DAYS_PER_COPY = 29;
/**
 * The postcode areas of the copies after the first: two letters that are no real area (none
 * begins with Q, V or X, and ZE is the only real one in Z), 101 of them, enough for 50 copies of
 * the template's two areas before they repeat.
 */
const LETTERS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];
const COPY_AREAS = [
  ...['Q', 'V', 'X'].flatMap((first) => LETTERS.map((second) => `${first}${second}`)),
  ...LETTERS.filter((second) => !'EYZ'.includes(second)).map((second) => `Z${second}`),
];
const DAY_MS = 86_400_000;
/** A postcode's area: the letters before the district number. */
const POSTCODE_AREA = /^([A-Z]{1,2})\d/;

export class TemplateCopier {
  private readonly nhsIndex = new Map<string, number>();
  private readonly establishmentIndex = new Map<string, number>();
  private readonly familyIndex = new Map<string, number>();
  private readonly families: string[];
  /** The copies' family names, in the order first needed, each of a Soundex code of its own. */
  private readonly copyFamilies: string[] = [];
  private readonly familyCodes = new Set<string>();
  private nextFamily = 0;
  /** The template's postcode areas, in order of first sight. */
  private readonly areaIndex = new Map<string, number>();
  /** Each copy's dates as moved, remembered (a template has a few thousand distinct dates). */
  private readonly shiftedDates = new Map<number, Map<string, string>>();
  private readonly validNhs: string[] = [];
  private nextStem = NHS_RANGE_START;

  /**
   * @param templateTexts every JSON text the copies are made from (event data and metadata)
   * @param templateChildren the template's child count: record numbers run 1 … templateChildren
   * @param copies how many copies will be made (checked against the identifier ranges)
   */
  constructor(
    templateTexts: Iterable<string>,
    private readonly templateChildren: number,
    readonly copies: number,
  ) {
    const families = new Set<string>();
    for (const text of templateTexts) {
      for (const match of text.matchAll(PATTERN)) {
        if (match[7] !== undefined && isValidNhsNumber(match[7]) && !this.nhsIndex.has(match[7]))
          this.nhsIndex.set(match[7], this.nhsIndex.size);
        if (match[8] !== undefined && isValidUpn(match[8])) {
          const establishment = match[8].slice(4, 8);
          if (!this.establishmentIndex.has(establishment))
            this.establishmentIndex.set(establishment, this.establishmentIndex.size);
        }
        if (match[10] !== undefined) families.add(match[10]);
        const area = match[12] === undefined ? undefined : POSTCODE_AREA.exec(match[12])?.[1];
        if (area !== undefined && !this.areaIndex.has(area)) this.areaIndex.set(area, this.areaIndex.size);
      }
    }
    this.families = [...families].sort();
    this.families.forEach((family, index) => {
      this.familyIndex.set(family, index);
      this.familyCodes.add(soundex(family));
    });
    if (copies * templateChildren > 999_999)
      throw new RangeError(`${copies} copies of ${templateChildren} children overrun 6-digit record numbers`);
    if (1000 + copies * this.establishmentIndex.size > 9999)
      throw new RangeError(
        `${copies} copies of ${this.establishmentIndex.size} establishments overrun 4-digit UPN establishments`,
      );
  }

  private nhsNumber(ordinal: number): string {
    while (this.validNhs.length <= ordinal) {
      if (this.nextStem > 999_999_999) throw new RangeError('the 999 NHS number test range is used up');
      const made = makeNhsNumber(String(this.nextStem++));
      if (made) this.validNhs.push(made);
    }
    return this.validNhs[ordinal];
  }

  /** The text as copy `copy` (0-based) has it. */
  copy(text: string, copy: number): string {
    return text.replace(
      PATTERN,
      (
        whole: string,
        uuidHead?: string,
        uuidTail?: string,
        recordPrefix?: string,
        recordNumber?: string,
        laPrefix?: string,
        laNumber?: string,
        nhs?: string,
        upn?: string,
        familyPrefix?: string,
        family?: string,
        postcodePrefix?: string,
        postcode?: string,
        yearEnding?: string,
        date?: string,
      ) => {
        if (uuidHead !== undefined) {
          const head = (Number.parseInt(uuidHead, 16) + Math.imul(copy, UUID_SHIFT)) >>> 0;
          return `${head.toString(16).padStart(8, '0')}${uuidTail}`;
        }
        if (recordPrefix !== undefined) return `${recordPrefix}${this.childNumber(recordNumber!, copy)}`;
        if (laPrefix !== undefined) return `${laPrefix}${this.childNumber(laNumber!, copy)}"`;
        if (nhs !== undefined) {
          const index = this.nhsIndex.get(nhs);
          return index === undefined ? whole : `"${this.nhsNumber(copy * this.nhsIndex.size + index)}"`;
        }
        if (upn !== undefined) {
          const index = this.establishmentIndex.get(upn.slice(4, 8));
          if (index === undefined || !isValidUpn(upn)) return whole;
          const establishment = String(1000 + copy * this.establishmentIndex.size + index);
          return `"${makeUpn(`${upn.slice(1, 4)}${establishment}${upn.slice(8)}`)}"`;
        }
        if (family !== undefined) {
          const index = this.familyIndex.get(family);
          if (index === undefined || copy === 0) return whole;
          return `${familyPrefix}${this.copyFamily((copy - 1) * this.families.length + index)}"`;
        }
        if (postcode !== undefined) {
          const area = POSTCODE_AREA.exec(postcode)?.[1];
          const index = area === undefined ? undefined : this.areaIndex.get(area);
          if (index === undefined || copy === 0) return whole;
          const own = COPY_AREAS[((copy - 1) * this.areaIndex.size + index) % COPY_AREAS.length];
          return `${postcodePrefix}${own}${postcode.slice(area!.length)}"`;
        }
        // A return's collection year ends on 31 March whatever the copy.
        if (yearEnding !== undefined) return whole;
        return this.shiftedDate(date!, copy);
      },
    );
  }

  /** The `ordinal`-th family name of the copies, its Soundex code neither a template name's nor an earlier one's. */
  private copyFamily(ordinal: number): string {
    while (this.copyFamilies.length <= ordinal) {
      if (this.nextFamily >= FAMILY_CODES)
        throw new RangeError(
          `the copies need more than ${this.copyFamilies.length} family names of their own`,
        );
      const family = composedFamily(this.nextFamily++);
      const code = soundex(family);
      if (this.familyCodes.has(code)) continue;
      this.familyCodes.add(code);
      this.copyFamilies.push(family);
    }
    return this.copyFamilies[ordinal];
  }

  /** A calendar date (YYYY-MM-DD) as copy `copy` has it: copy × DAYS_PER_COPY days earlier. */
  private shiftedDate(date: string, copy: number): string {
    if (copy === 0) return date;
    let dates = this.shiftedDates.get(copy);
    if (!dates) this.shiftedDates.set(copy, (dates = new Map()));
    let shifted = dates.get(date);
    if (shifted === undefined) {
      const time = Date.parse(`${date}T00:00:00Z`);
      // Not a real date (a code or an identifier that looks like one): left as it is.
      shifted = Number.isNaN(time)
        ? date
        : new Date(time - copy * DAYS_PER_COPY * DAY_MS).toISOString().slice(0, 10);
      dates.set(date, shifted);
    }
    return shifted;
  }

  private childNumber(templateNumber: string, copy: number): string {
    return String(copy * this.templateChildren + Number(templateNumber)).padStart(6, '0');
  }
}
