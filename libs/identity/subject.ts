import {
  isValidNhsNumber,
  isValidUpn,
  streamIdOf,
  type Agency,
  type AgencyEvent,
} from '@throughline/contracts';

/**
 * A subject is one agency's record of a child, with the identifiers it has held over time
 * and its latest demographics. Pure functions: the linker folds events into snapshots.
 */
export type IdentifierKind = 'nhs-number' | 'upn' | 'former-upn' | 'uln' | 'la-child-id';

/** A code of the contracts' `sex` list: 1/2/0/9 up to 2023-24, M/F/U from 2024-25 (compare with `sexOf`). */
export type SexCode = string;

export interface PersonName {
  readonly given: string;
  readonly family: string;
}

export interface SubjectIdentifier {
  readonly kind: IdentifierKind;
  /** `la-child-id` values are scoped by their LA: `${laCode}/${laChildId}`. */
  readonly value: string;
}

export interface IdentifierPeriod extends SubjectIdentifier {
  /** ISO date the record was first seen holding the identifier. */
  readonly validFrom: string;
  /** ISO date the record was first seen holding a replacement; absent while current. */
  readonly validTo?: string;
}

export interface SubjectSnapshot {
  readonly streamId: string;
  readonly agency: Agency;
  readonly recordId: string;
  /** Full history; the current identifiers have no validTo. */
  readonly identifiers: readonly IdentifierPeriod[];
  readonly name?: PersonName;
  readonly dateOfBirth?: string;
  readonly expectedDateOfBirth?: string;
  readonly sex?: SexCode;
  readonly postcode?: string;
  /** The latest occurredAt folded in; an older event only fills demographics still missing. */
  readonly observedAt?: string;
}

/** What one event says about its subject (valid identifiers only). */
export interface SubjectFacts {
  readonly streamId: string;
  readonly agency: Agency;
  readonly recordId: string;
  readonly identifiers: readonly SubjectIdentifier[];
  readonly name?: PersonName;
  readonly dateOfBirth?: string;
  readonly expectedDateOfBirth?: string;
  readonly sex?: SexCode;
  readonly postcode?: string;
}

const ULN = /^[1-9]\d{9}$/;
const LA_CODE = /^\d{3}$/;
const POSTCODE = /^([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})$/;

/** "zz99 3ab" / "ZZ993AB" → "ZZ99 3AB"; undefined when it is not a UK postcode. */
export function normalisePostcode(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const match = POSTCODE.exec(value.trim().toUpperCase().replace(/\s+/g, ' '));
  return match ? `${match[1]} ${match[2]}` : undefined;
}

/** The outward code ("postcode district"), e.g. "ZZ99" of "ZZ99 3AB". */
export function postcodeDistrict(postcode: string): string {
  const space = postcode.indexOf(' ');
  return space < 0 ? postcode : postcode.slice(0, space);
}

/**
 * The facts one event states about its subject. Identifiers failing their check algorithm
 * are dropped (contracts reject them already; a stored event from an older contract might not).
 */
export function subjectOf(event: Pick<AgencyEvent, 'source' | 'subject'>): SubjectFacts {
  const { subject } = event;
  const identifiers: SubjectIdentifier[] = [];
  if (subject.nhsNumber && isValidNhsNumber(subject.nhsNumber))
    identifiers.push({ kind: 'nhs-number', value: subject.nhsNumber });
  if (subject.upn && isValidUpn(subject.upn)) identifiers.push({ kind: 'upn', value: subject.upn });
  if (subject.formerUpn && subject.formerUpn !== subject.upn && isValidUpn(subject.formerUpn))
    identifiers.push({ kind: 'former-upn', value: subject.formerUpn });
  if (subject.uln && ULN.test(subject.uln)) identifiers.push({ kind: 'uln', value: subject.uln });
  if (subject.laChildId && subject.laCode && LA_CODE.test(subject.laCode))
    identifiers.push({ kind: 'la-child-id', value: `${subject.laCode}/${subject.laChildId}` });

  const given = subject.name?.given.trim();
  const family = subject.name?.family.trim();
  const postcode = normalisePostcode(subject.postcode);
  return {
    streamId: streamIdOf(event),
    agency: event.source.agency,
    recordId: subject.recordId,
    identifiers,
    ...(given && family ? { name: { given, family } } : {}),
    ...(subject.dateOfBirth ? { dateOfBirth: subject.dateOfBirth } : {}),
    ...(subject.expectedDateOfBirth ? { expectedDateOfBirth: subject.expectedDateOfBirth } : {}),
    ...(subject.sex ? { sex: subject.sex } : {}),
    ...(postcode ? { postcode } : {}),
  };
}

const SINGLE_VALUED: readonly IdentifierKind[] = ['nhs-number', 'upn', 'uln', 'la-child-id'];

/** The identifiers the snapshot holds now (periods without validTo). */
export function currentIdentifiers(snapshot: Pick<SubjectSnapshot, 'identifiers'>): IdentifierPeriod[] {
  return snapshot.identifiers.filter((period) => period.validTo === undefined);
}

function applyIdentifiers(
  history: readonly IdentifierPeriod[],
  stated: readonly SubjectIdentifier[],
  on: string,
): IdentifierPeriod[] {
  const periods = [...history];
  const addFormerUpn = (value: string, from: string) => {
    const known = periods.some((p) => p.kind === 'former-upn' && p.value === value);
    if (!known) periods.push({ kind: 'former-upn', value, validFrom: from });
  };

  for (const identifier of stated) {
    if (identifier.kind === 'former-upn') {
      addFormerUpn(identifier.value, on);
      continue;
    }
    if (!SINGLE_VALUED.includes(identifier.kind)) continue;
    const index = periods.findIndex((p) => p.kind === identifier.kind && p.validTo === undefined);
    const current = index >= 0 ? periods[index] : undefined;
    if (current?.value === identifier.value) continue;
    if (!current) {
      periods.push({ ...identifier, validFrom: on });
      continue;
    }
    if (on < current.validFrom) {
      // An older event arriving late: its value was held before the current one.
      const known = periods.some((p) => p.kind === identifier.kind && p.value === identifier.value);
      if (!known) periods.push({ ...identifier, validFrom: on, validTo: current.validFrom });
      if (identifier.kind === 'upn') addFormerUpn(identifier.value, on);
      continue;
    }
    periods[index] = { ...current, validTo: on };
    periods.push({ ...identifier, validFrom: on });
    // A pupil keeps their old UPN as a former UPN (the school census FormerUPN).
    if (identifier.kind === 'upn') addFormerUpn(current.value, on);
  }
  return periods;
}

/**
 * Folds one event's facts into the subject. A changed identifier closes the old period
 * (validTo) and opens a new one; an identifier an event leaves out is not ended by it
 * (agencies often send only some). Demographics take the latest non-empty value.
 */
export function evolveSubject(
  previous: SubjectSnapshot | undefined,
  facts: SubjectFacts,
  occurredAt: string,
): SubjectSnapshot {
  if (previous && previous.streamId !== facts.streamId)
    throw new Error(`facts of ${facts.streamId} cannot evolve subject ${previous.streamId}`);
  const on = occurredAt.slice(0, 10);
  const identifiers = applyIdentifiers(previous?.identifiers ?? [], facts.identifiers, on);
  const latest = !previous?.observedAt || occurredAt >= previous.observedAt;
  const pick = <T>(before: T | undefined, now: T | undefined): T | undefined =>
    latest ? (now ?? before) : (before ?? now);
  const name = pick(previous?.name, facts.name);
  const dateOfBirth = pick(previous?.dateOfBirth, facts.dateOfBirth);
  const expectedDateOfBirth = pick(previous?.expectedDateOfBirth, facts.expectedDateOfBirth);
  const sex = pick(previous?.sex, facts.sex);
  const postcode = pick(previous?.postcode, facts.postcode);
  const observedAt = latest ? occurredAt : previous?.observedAt;
  return {
    streamId: facts.streamId,
    agency: facts.agency,
    recordId: facts.recordId,
    identifiers,
    ...(name ? { name } : {}),
    ...(dateOfBirth ? { dateOfBirth } : {}),
    ...(expectedDateOfBirth ? { expectedDateOfBirth } : {}),
    ...(sex ? { sex } : {}),
    ...(postcode ? { postcode } : {}),
    ...(observedAt ? { observedAt } : {}),
  };
}
