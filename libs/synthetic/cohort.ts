import { makeNhsNumber, type Agency, type AgencyEvent } from '@throughline/contracts';
import { dayNumber, isoDateOf } from './calendar';
import { generateEducationHistory, planEducationRecords, UpnIssuer } from './education';
import { generateHealthHistory, healthRecordOf } from './health';
import {
  EventSink,
  type AgencyRecord,
  type ChildProfile,
  type EducationRecord,
  type HealthRecord,
  type NeedsLevel,
  type SocialCareRecord,
} from './history';
import { FAMILY_NAMES, GIVEN_NAMES } from './names';
import { generateOutcomeObservations } from './outcomes';
import { hash32, Random } from './random';
import { generateSocialCareHistory, planSocialCareEpisode, socialCareRecordOf } from './social-care';

export interface CohortOptions {
  /** Same seed (and options) → identical cohort, byte for byte. */
  readonly seed: number;
  /** Default 200. */
  readonly children?: number;
  /** Children are born from 1 January of startYear … */
  readonly startYear: number;
  /** … to 31 December of endYear − 1; histories run to the end of endYear or `now`, whichever is earlier. */
  readonly endYear: number;
  /** No event is dated after this instant. Pass a fixed value to keep the cohort reproducible. */
  readonly now: Date | string;
}

/** Which records share an identifier and so link deterministically. */
export interface ChildLinkage {
  /** Record ids grouped by shared NHS number or UPN; a group of one links to nothing. */
  readonly groups: readonly (readonly string[])[];
  /** One group holds a health, an education and a social-care record. */
  readonly linkedAcrossAllAgencies: boolean;
  /** Records that share no identifier with any other record of this child (while it has others). */
  readonly unlinkedRecordIds: readonly string[];
}

export interface SyntheticChild {
  /** 1-based position in the cohort; record ids are built from it. */
  readonly number: number;
  readonly givenName: string;
  readonly familyName: string;
  readonly sex: 'female' | 'male';
  readonly dateOfBirth: string;
  readonly needs: NeedsLevel;
  readonly nhsNumber: string;
  /** Issued at reception entry; absent for children not yet at school. */
  readonly upn?: string;
  readonly records: {
    readonly health: HealthRecord;
    readonly education: readonly EducationRecord[];
    readonly socialCare?: SocialCareRecord;
  };
  readonly linkage: ChildLinkage;
  readonly eventCount: number;
}

export interface SyntheticCohort {
  readonly children: readonly SyntheticChild[];
  /** Every child's events, ordered by occurredAt (then eventId). */
  readonly events: readonly AgencyEvent[];
}

/** Shares of records that carry each identifier. */
const EDUCATION_HOLDS_NHS = 0.6;
const SOCIAL_CARE_WITHOUT_IDENTIFIERS = 0.1;
const SOCIAL_CARE_HOLDS_NHS = 0.85;
const SOCIAL_CARE_HOLDS_UPN = 0.8;

/** NHS numbers in the 999 test range, three stems apart per child so each finds a valid check digit. */
function nhsNumberFor(seed: number, childNumber: number): string {
  const base = hash32(seed, 'nhs') % 100_000;
  for (let attempt = 0; attempt < 3; attempt++) {
    const stem = `999${String((base + childNumber * 3 + attempt) % 1_000_000).padStart(6, '0')}`;
    const nhsNumber = makeNhsNumber(stem);
    if (nhsNumber) return nhsNumber;
  }
  throw new Error(`no valid NHS number near child ${childNumber}`); // unreachable: 1 in 11 stems fail
}

export function linkageOf(records: readonly AgencyRecord[]): ChildLinkage {
  const parent = records.map((_, index) => index);
  const root = (index: number): number =>
    parent[index] === index ? index : (parent[index] = root(parent[index]));
  const holderOf = new Map<string, number>();
  records.forEach((record, index) => {
    const keys = [
      record.nhsNumber && `nhs:${record.nhsNumber}`,
      'upn' in record && record.upn && `upn:${record.upn}`,
    ];
    for (const key of keys) {
      if (!key) continue;
      const holder = holderOf.get(key);
      if (holder === undefined) holderOf.set(key, index);
      else parent[root(index)] = root(holder);
    }
  });
  const groups = new Map<number, AgencyRecord[]>();
  records.forEach((record, index) => groups.set(root(index), [...(groups.get(root(index)) ?? []), record]));
  const grouped = [...groups.values()];
  return {
    groups: grouped.map((group) => group.map((record) => record.recordId)),
    linkedAcrossAllAgencies: grouped.some(
      (group) => new Set(group.map((record) => record.agency)).size === 3,
    ),
    unlinkedRecordIds:
      records.length > 1
        ? grouped.filter((group) => group.length === 1).map(([record]) => record.recordId)
        : [],
  };
}

/**
 * Generates synthetic children with multi-year, multi-agency histories as contract events.
 * Fictional names, identifiers in test or unused ranges: never anyone's real data.
 */
export function generateCohort(options: CohortOptions): SyntheticCohort {
  const { seed, children: size = 200, startYear, endYear } = options;
  const now = new Date(options.now);
  if (!Number.isInteger(seed)) throw new Error('seed must be an integer');
  if (!Number.isInteger(size) || size < 1 || size > 300_000) throw new Error('children must be 1..300000');
  if (!(startYear < endYear)) throw new Error('startYear must be before endYear');
  if (Number.isNaN(now.getTime())) throw new Error('now must be a valid date');
  const horizon = [`${endYear}-12-31`, now.toISOString().slice(0, 10)].sort()[0];
  const lastBirthDay = Math.min(dayNumber(`${endYear - 1}-12-31`), dayNumber(horizon) - 90);
  const firstBirthDay = dayNumber(`${startYear}-01-01`);
  if (lastBirthDay < firstBirthDay)
    throw new Error('now leaves no room for births between startYear and endYear');

  const upns = new UpnIssuer();
  const children: SyntheticChild[] = [];
  const events: AgencyEvent[] = [];
  for (let number = 1; number <= size; number++) {
    const rng = new Random(seed, number, 'profile');
    const sex = rng.chance(0.5) ? 'female' : 'male';
    const dateOfBirth = isoDateOf(rng.int(firstBirthDay, lastBirthDay));
    const needs = rng.weighted<NeedsLevel>([
      ['universal', 70],
      ['additional', 18],
      ['complex', 12],
    ]);
    const profile: ChildProfile = {
      number,
      givenName: rng.pick(GIVEN_NAMES[sex]),
      familyName: rng.pick(FAMILY_NAMES),
      sex,
      dateOfBirth,
      needs,
      nhsNumber: nhsNumberFor(seed, number),
      horizon,
      socialCare: planSocialCareEpisode(dateOfBirth, horizon, needs, rng),
    };
    const health = healthRecordOf(profile);
    const education = planEducationRecords(profile, rng, upns, EDUCATION_HOLDS_NHS);
    const upn = education[0]?.upn;
    const withoutIdentifiers = rng.chance(SOCIAL_CARE_WITHOUT_IDENTIFIERS);
    const holdsNhs = rng.chance(SOCIAL_CARE_HOLDS_NHS);
    const holdsUpn = rng.chance(SOCIAL_CARE_HOLDS_UPN) && upn !== undefined;
    const socialCare = profile.socialCare
      ? socialCareRecordOf(profile, upn, {
          nhsNumber: !withoutIdentifiers && (holdsNhs || !holdsUpn),
          upn: !withoutIdentifiers && holdsUpn,
        })
      : undefined;
    const upnKnownFrom = socialCare?.upn ? education[0]?.entryDate : undefined;

    // One stream per domain, so one domain's length never shifts another's ids.
    const sink = (domain: string) => new EventSink(new Random(seed, number, domain, 'ids'), horizon);
    const sinks = [sink('health'), sink('education'), sink('social-care'), sink('outcomes')] as const;
    generateHealthHistory(profile, health, new Random(seed, number, 'health'), sinks[0]);
    generateEducationHistory(profile, education, new Random(seed, number, 'education'), sinks[1]);
    if (socialCare)
      generateSocialCareHistory(
        profile,
        socialCare,
        upnKnownFrom,
        new Random(seed, number, 'social-care'),
        sinks[2],
      );
    generateOutcomeObservations(
      profile,
      { health, education, socialCare },
      upnKnownFrom,
      new Random(seed, number, 'outcomes'),
      sinks[3],
    );

    const childEvents = sinks
      .flatMap((s) => s.events)
      .filter(
        (event) =>
          Date.parse(event.occurredAt) <= now.getTime() && event.occurredAt.slice(0, 10) >= dateOfBirth,
      );
    events.push(...childEvents);
    const records: AgencyRecord[] = [health, ...education, ...(socialCare ? [socialCare] : [])];
    children.push({
      number,
      givenName: profile.givenName,
      familyName: profile.familyName,
      sex,
      dateOfBirth,
      needs,
      nhsNumber: profile.nhsNumber,
      ...(upn ? { upn } : {}),
      records: { health, education, ...(socialCare ? { socialCare } : {}) },
      linkage: linkageOf(records),
      eventCount: childEvents.length,
    });
  }

  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.eventId)) throw new Error(`duplicate synthetic event id ${event.eventId}`);
    seen.add(event.eventId);
  }
  events.sort((a, b) =>
    a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : a.eventId < b.eventId ? -1 : 1,
  );
  return { children, events };
}

/** Agencies that hold a record of the child. */
export function agenciesOf(child: SyntheticChild): Agency[] {
  return [
    'health' as const,
    ...(child.records.education.length ? ['education' as const] : []),
    ...(child.records.socialCare ? ['social-care' as const] : []),
  ];
}
