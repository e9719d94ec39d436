import { sexOf } from '@throughline/contracts';
import { compareDeterministic, type DeterministicComparison } from './deterministic';
import { postcodeDistrict, type SubjectSnapshot } from './subject';

/**
 * Probabilistic record linkage in the Fellegi–Sunter style: each field comparison adds a
 * weight log2(m/u), where m is the chance of that outcome when the two records are the same
 * child and u the chance when they are two different children. The sum only ever proposes a
 * match; a person confirms or rejects it.
 */

// ---------------------------------------------------------------------------------------
// String similarity

/**
 * Names normalised already. The linker scores a changing record against each of its candidates
 * (about 180 each at 100,000 children), its own names every time; a name is normalised once while
 * it is here. Bounded: emptied when full (names are in the linker's memory anyway, in its snapshots).
 */
const normalisedNames = new Map<string, string>();
const NORMALISED_NAMES_KEPT = 10_000;

/** Upper case, no diacritics, letters and digits only: "Zoë O'Neil-Smith" → "ZOEONEILSMITH". */
export function normaliseName(value: string): string {
  let normalised = normalisedNames.get(value);
  if (normalised === undefined) {
    normalised = value
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, '');
    if (normalisedNames.size >= NORMALISED_NAMES_KEPT) normalisedNames.clear();
    normalisedNames.set(value, normalised);
  }
  return normalised;
}

function jaro(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length === 0 || b.length === 0) return 0;
  const window = Math.max(0, Math.floor(Math.max(a.length, b.length) / 2) - 1);
  const matchedA = new Array<boolean>(a.length).fill(false);
  const matchedB = new Array<boolean>(b.length).fill(false);
  let matches = 0;
  for (let i = 0; i < a.length; i++) {
    const from = Math.max(0, i - window);
    const to = Math.min(b.length - 1, i + window);
    for (let j = from; j <= to; j++) {
      if (matchedB[j] || a[i] !== b[j]) continue;
      matchedA[i] = matchedB[j] = true;
      matches++;
      break;
    }
  }
  if (matches === 0) return 0;
  let halfTranspositions = 0;
  let k = 0;
  for (let i = 0; i < a.length; i++) {
    if (!matchedA[i]) continue;
    while (!matchedB[k]) k++;
    if (a[i] !== b[k]) halfTranspositions++;
    k++;
  }
  const transpositions = halfTranspositions / 2;
  return (matches / a.length + matches / b.length + (matches - transpositions) / matches) / 3;
}

/**
 * Jaro–Winkler similarity, 0..1, ignoring case, diacritics, spaces and punctuation.
 * Winkler's prefix bonus: up to 4 common leading characters, scaling factor 0.1.
 */
export function jaroWinkler(a: string, b: string): number {
  const left = normaliseName(a);
  const right = normaliseName(b);
  const similarity = jaro(left, right);
  let prefix = 0;
  while (prefix < 4 && prefix < left.length && left[prefix] === right[prefix]) prefix++;
  return similarity + prefix * 0.1 * (1 - similarity);
}

/** American Soundex ("Robert" → R163), used for blocking keys only. */
export function soundex(value: string): string {
  const letters = normaliseName(value).replace(/[^A-Z]/g, '');
  if (!letters) return '0000';
  const codeOf = (char: string): string => {
    if ('BFPV'.includes(char)) return '1';
    if ('CGJKQSXZ'.includes(char)) return '2';
    if ('DT'.includes(char)) return '3';
    if (char === 'L') return '4';
    if ('MN'.includes(char)) return '5';
    if (char === 'R') return '6';
    return ''; // vowels, H, W, Y
  };
  let code = letters[0];
  let previous = codeOf(letters[0]);
  for (const char of letters.slice(1)) {
    const digit = codeOf(char);
    if (digit && digit !== previous) code += digit;
    // H and W do not separate equal codes; vowels do.
    if (char !== 'H' && char !== 'W') previous = digit;
    if (code.length === 4) break;
  }
  return code.padEnd(4, '0');
}

// ---------------------------------------------------------------------------------------
// The model

export type EvidenceField =
  'given-name' | 'family-name' | 'date-of-birth' | 'sex' | 'postcode' | 'nhs-number' | 'upn';
export type Outcome = 'agree' | 'partial' | 'disagree' | 'missing';

export interface FieldEvidence {
  readonly field: EvidenceField;
  readonly outcome: Outcome;
  /** log2(m/u) for agree and partial, log2((1-m)/(1-u)) summed over the other levels for disagree; 0 when missing. */
  readonly weight: number;
  readonly detail?: string;
}

export interface MatchScore {
  readonly score: number;
  readonly evidence: readonly FieldEvidence[];
}

/** m = P(outcome | same child), u = P(outcome | different children). Disagree takes what is left of 1. */
export interface LevelProbabilities {
  readonly m: number;
  readonly u: number;
}

export interface FieldModel {
  readonly agree: LevelProbabilities;
  /** Absent for fields with no partial level (sex, identifiers). */
  readonly partial?: LevelProbabilities;
}

export interface MatchModel {
  readonly fields: Readonly<Record<EvidenceField, FieldModel>>;
  /** Jaro–Winkler at or above which two names agree … */
  readonly nameAgreeAt: number;
  /** … and at or above which they partly agree. */
  readonly namePartialAt: number;
  /** An expected date of birth this many days or fewer from a date of birth partly agrees. */
  readonly expectedBirthToleranceDays: number;
  /** A candidate pair scoring at least this (in bits, log2 of the likelihood ratio) is proposed. */
  readonly proposeAt: number;
}

/**
 * Documented defaults. The u values are set for a local authority's population of children
 * (tens of thousands, born over ~18 years); the m values reflect recording error between
 * agencies. Both are starting points to be re-estimated (e.g. by EM) on confirmed matches.
 */
export const DEFAULT_MATCH_MODEL: MatchModel = {
  fields: {
    // Given names: the same child's name agrees across agencies ~90% of the time; typos,
    // nicknames and a changed spelling make up the partial 5%. Two different children
    // share a given name ~2% of the time (popular names run at 1-2% of a birth year), and
    // a different but similar name (JW 0.85-0.92) another ~2%.
    'given-name': { agree: { m: 0.9, u: 0.02 }, partial: { m: 0.05, u: 0.02 } },
    // Family names are more varied than given names (u ~1%), but change more for the same
    // child (a parent's new partner, a hyphenation), so m is the same as for given names.
    'family-name': { agree: { m: 0.9, u: 0.01 }, partial: { m: 0.05, u: 0.01 } },
    // Date of birth: recorded the same 93% of the time; 5% are off in one component or have
    // day and month transposed. Two different children born over ~18 years share a date of
    // birth about 1 in 6,500 times (u 0.0003 allows for clustering of births); one component
    // off or transposed happens by chance ~1%.
    'date-of-birth': { agree: { m: 0.93, u: 0.0003 }, partial: { m: 0.05, u: 0.01 } },
    // Sex: recorded the same ~98% of the time; two different children agree half the time.
    sex: { agree: { m: 0.98, u: 0.5 } },
    // Postcode: records go out of date when a family moves, so the same child's two records
    // hold the same full postcode ~70% and the same district another ~15%. A full postcode
    // covers ~15 households, so two different children share one ~0.05% of the time; a
    // district covers a few per cent of an authority.
    postcode: { agree: { m: 0.7, u: 0.0005 }, partial: { m: 0.15, u: 0.05 } },
    // NHS number: the same child's records disagree on a valid NHS number only through a
    // keying error that still passes the mod-11 check (~0.5%); different children never
    // share one (u 1e-7 allows for an allocation error).
    'nhs-number': { agree: { m: 0.995, u: 1e-7 } },
    // UPN: as the NHS number, but a school can hold an out-of-date UPN (~2%).
    upn: { agree: { m: 0.98, u: 1e-6 } },
  },
  nameAgreeAt: 0.92,
  namePartialAt: 0.85,
  expectedBirthToleranceDays: 42,
  // 12 bits is a likelihood ratio of ~4,000:1, enough to outweigh the prior odds of two
  // blocked records being the same child while leaving same-named cousins (different date
  // of birth and postcode, ~9 bits at most) below it.
  proposeAt: 12,
};

function validateModel(model: MatchModel): void {
  for (const [field, levels] of Object.entries(model.fields)) {
    const m = levels.agree.m + (levels.partial?.m ?? 0);
    const u = levels.agree.u + (levels.partial?.u ?? 0);
    const all = [levels.agree.m, levels.agree.u, levels.partial?.m ?? 0.5, levels.partial?.u ?? 0.5];
    if (all.some((p) => !(p > 0 && p < 1)) || !(m < 1) || !(u < 1))
      throw new Error(
        `match model field ${field}: m and u must be probabilities in (0, 1) and the agree and partial levels must sum below 1`,
      );
  }
}

const round = (value: number) => Math.round(value * 100) / 100;

function weightOf(model: MatchModel, field: EvidenceField, outcome: Outcome): number {
  const levels = model.fields[field];
  switch (outcome) {
    case 'missing':
      return 0;
    case 'agree':
      return round(Math.log2(levels.agree.m / levels.agree.u));
    case 'partial': {
      if (!levels.partial) throw new Error(`field ${field} has no partial level`);
      return round(Math.log2(levels.partial.m / levels.partial.u));
    }
    case 'disagree': {
      const m = 1 - levels.agree.m - (levels.partial?.m ?? 0);
      const u = 1 - levels.agree.u - (levels.partial?.u ?? 0);
      return round(Math.log2(m / u));
    }
  }
}

// ---------------------------------------------------------------------------------------
// Field comparisons

type Comparison = { outcome: Outcome; detail?: string };

function compareName(model: MatchModel, a: string | undefined, b: string | undefined): Comparison {
  if (!a || !b) return { outcome: 'missing' };
  const similarity = jaroWinkler(a, b);
  const detail = `Jaro-Winkler ${similarity.toFixed(3)}`;
  if (similarity >= model.nameAgreeAt) return { outcome: 'agree', detail };
  if (similarity >= model.namePartialAt) return { outcome: 'partial', detail };
  return { outcome: 'disagree', detail };
}

const dayNumber = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

function compareDates(model: MatchModel, a: SubjectSnapshot, b: SubjectSnapshot): Comparison {
  const dateA = a.dateOfBirth ?? a.expectedDateOfBirth;
  const dateB = b.dateOfBirth ?? b.expectedDateOfBirth;
  if (!dateA || !dateB) return { outcome: 'missing' };
  if (!a.dateOfBirth || !b.dateOfBirth) {
    // An expected date of birth is an estimate: near the actual (or other expected) date partly agrees.
    const days = Math.abs(dayNumber(dateA) - dayNumber(dateB));
    return days <= model.expectedBirthToleranceDays
      ? { outcome: 'partial', detail: `expected date of birth ${days} days off` }
      : { outcome: 'disagree', detail: `expected date of birth ${days} days off` };
  }
  if (dateA === dateB) return { outcome: 'agree' };
  const [yearA, monthA, dayA] = dateA.split('-');
  const [yearB, monthB, dayB] = dateB.split('-');
  if (yearA === yearB && monthA === dayB && dayA === monthB)
    return { outcome: 'partial', detail: 'day and month transposed' };
  const differing = [yearA !== yearB, monthA !== monthB, dayA !== dayB].filter(Boolean).length;
  if (differing === 1) return { outcome: 'partial', detail: 'one of day, month, year differs' };
  return { outcome: 'disagree' };
}

function compareSex(a: SubjectSnapshot, b: SubjectSnapshot): Comparison {
  // 1 and M, 2 and F are the same sex in the lists of different years.
  const first = sexOf(a.sex);
  const second = sexOf(b.sex);
  if (!first || !second) return { outcome: 'missing' };
  return { outcome: first === second ? 'agree' : 'disagree' };
}

function comparePostcode(a: SubjectSnapshot, b: SubjectSnapshot): Comparison {
  if (!a.postcode || !b.postcode) return { outcome: 'missing' };
  if (a.postcode === b.postcode) return { outcome: 'agree' };
  if (postcodeDistrict(a.postcode) === postcodeDistrict(b.postcode))
    return { outcome: 'partial', detail: `same district ${postcodeDistrict(a.postcode)}` };
  return { outcome: 'disagree' };
}

function compareIdentifier(
  kind: 'nhs-number' | 'upn',
  a: SubjectSnapshot,
  b: SubjectSnapshot,
  deterministic: DeterministicComparison,
): Comparison {
  if (deterministic.shared.some((shared) => shared.kind === kind)) return { outcome: 'agree' };
  const conflict = deterministic.conflicts.find((c) => c.kind === kind);
  if (conflict) return { outcome: 'disagree', detail: `${conflict.values[0]} ≠ ${conflict.values[1]}` };
  return { outcome: 'missing' };
}

/** Scores a candidate pair; the evidence says what each field contributed and why. */
export function scoreMatch(
  a: SubjectSnapshot,
  b: SubjectSnapshot,
  model: MatchModel = DEFAULT_MATCH_MODEL,
  /** The pair's deterministic comparison, when the caller made it already. */
  deterministic: DeterministicComparison = compareDeterministic(a, b),
): MatchScore {
  if (model !== DEFAULT_MATCH_MODEL) validateModel(model);
  const comparisons: [EvidenceField, Comparison][] = [
    ['given-name', compareName(model, a.name?.given, b.name?.given)],
    ['family-name', compareName(model, a.name?.family, b.name?.family)],
    ['date-of-birth', compareDates(model, a, b)],
    ['sex', compareSex(a, b)],
    ['postcode', comparePostcode(a, b)],
    ['nhs-number', compareIdentifier('nhs-number', a, b, deterministic)],
    ['upn', compareIdentifier('upn', a, b, deterministic)],
  ];
  const evidence = comparisons.map(([field, { outcome, detail }]): FieldEvidence => ({
    field,
    outcome,
    weight: weightOf(model, field, outcome),
    ...(detail ? { detail } : {}),
  }));
  return { score: round(evidence.reduce((sum, item) => sum + item.weight, 0)), evidence };
}

/**
 * Propose when the score reaches the threshold, unless the two records hold different
 * valid NHS numbers: that is strong evidence of two children (twins share everything else).
 */
export function shouldPropose(score: MatchScore, model: MatchModel = DEFAULT_MATCH_MODEL): boolean {
  const nhsConflict = score.evidence.some(
    (item) => item.field === 'nhs-number' && item.outcome === 'disagree',
  );
  return !nhsConflict && score.score >= model.proposeAt;
}

// ---------------------------------------------------------------------------------------
// Blocking

/**
 * Cheap keys: only records sharing at least one key are scored. Each key tolerates a
 * different error: a wrong date of birth (name key), a misspelt name (date key), a typo in
 * a day or a transposed day and month (year + family, district + year, swapped date key).
 *
 * The compound keys stay small where the broad ones cannot (decision 027): nationally about
 * 1,700 children share a date of birth and thousands a year with a common family code, and a
 * key held by more records than the linker's block bound finds no candidates (decision 026).
 * Date of birth with the family code tolerates a different given name; with the given-name
 * code, a changed family name (common for children: a step-parent's, an adoptive family's, a
 * hyphenated one); year with both codes, a wrong day or month.
 */
export function blockingKeys(s: SubjectSnapshot): string[] {
  const keys = new Set<string>();
  const date = s.dateOfBirth ?? s.expectedDateOfBirth;
  const year = date?.slice(0, 4);
  const family = s.name ? soundex(s.name.family) : undefined;
  const given = s.name ? soundex(s.name.given) : undefined;
  if (s.dateOfBirth) {
    keys.add(`dob:${s.dateOfBirth}`);
    const [y, m, d] = s.dateOfBirth.split('-');
    if (d !== m && Number(d) <= 12) keys.add(`dob:${y}-${d}-${m}`);
  }
  if (year && family) keys.add(`yob-family:${year}:${family}`);
  if (year && s.postcode) keys.add(`district-yob:${postcodeDistrict(s.postcode)}:${year}`);
  if (given && family) {
    keys.add(`name:${given}:${family}`);
    if (s.dateOfBirth) {
      keys.add(`dob-family:${s.dateOfBirth}:${family}`);
      keys.add(`dob-given:${s.dateOfBirth}:${given}`);
    }
    if (year) keys.add(`yob-name:${year}:${given}:${family}`);
  }
  return [...keys].sort();
}

/**
 * Pairs of records from different streams that share a blocking key, each pair once, in a
 * stable order. Quadratic only within a block, so blocks must stay small.
 */
export function candidatePairs(subjects: readonly SubjectSnapshot[]): [SubjectSnapshot, SubjectSnapshot][] {
  const blocks = new Map<string, SubjectSnapshot[]>();
  for (const subject of subjects)
    for (const key of blockingKeys(subject)) blocks.set(key, [...(blocks.get(key) ?? []), subject]);
  const pairs = new Map<string, [SubjectSnapshot, SubjectSnapshot]>();
  for (const block of blocks.values())
    for (let i = 0; i < block.length; i++)
      for (let j = i + 1; j < block.length; j++) {
        const [a, b] = block[i].streamId < block[j].streamId ? [block[i], block[j]] : [block[j], block[i]];
        if (a.streamId !== b.streamId) pairs.set(`${a.streamId}\u0000${b.streamId}`, [a, b]);
      }
  return [...pairs.keys()].sort().map((key) => pairs.get(key)!);
}
