import { makeNhsNumber, type Agency, type AgencyEvent } from '@throughline/contracts';
import { addDays, dayNumber, isoDateOf } from './calendar';
import {
  drawPostcodeElsewhere,
  misrecordedName,
  misspell,
  planHomes,
  recordedDemographics,
  type AddressLag,
  type HomeOptions,
} from './demographics';
import {
  generateEducationHistory,
  planEducationRecords,
  planSen,
  senServiceRecordOf,
  UpnIssuer,
  type PlannedEducationRecord,
} from './education';
import { drawBirthFacts, generateHealthHistory, healthRecordOf } from './health';
import {
  EventSink,
  type AgencyRecord,
  type BirthFacts,
  type ChildProfile,
  type EducationRecord,
  type HealthRecord,
  type NeedsLevel,
  type PostcodeFrom,
  type SenPlan,
  type SenServiceRecord,
  type SocialCareRecord,
} from './history';
import { FAMILY_NAMES, GIVEN_NAMES, NEIGHBOURING_AUTHORITY, SCHOOLS, TWIN_NAMES } from './names';
import { annotate } from './annotations';
import { generateOutcomeObservations } from './outcomes';
import { hash32, Random } from './random';
import { currentDecisions, reviewDecision } from './reviews';
import { generateSocialCareHistory, socialCareRecordOf } from './social-care';
import { generateCensusFacts } from './returns/cin-census';
import { generateLookedAfterReturnFacts } from './returns/looked-after-facts';
import { planSocialCare } from './social-care-plan';
import { planTrajectories, type Course } from './trajectories';

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
  /** Where the child lived (the truth; each agency's record may lag behind a move). */
  readonly homes: readonly PostcodeFrom[];
  /** The child's part in a planted identity case, if any (see `SyntheticCohort.planted`). */
  readonly planted?: PlantedRole;
  readonly records: {
    readonly health: HealthRecord;
    /** The schools the child was on the roll of, in order. */
    readonly education: readonly EducationRecord[];
    /** The LA SEN service's record, for a child it assessed for an EHC plan. */
    readonly senService?: SenServiceRecord;
    readonly socialCare?: SocialCareRecord;
  };
  readonly linkage: ChildLinkage;
  /** The course of each outcome domain practitioners rate for this child (the plan the observations follow). */
  readonly trajectories: readonly ChildTrajectory[];
  readonly eventCount: number;
}

export interface ChildTrajectory {
  readonly framework: string;
  readonly domain: string;
  readonly course: Course;
  /** The course runs from `from` to `to`, and holds after. */
  readonly from: string;
  readonly to: string;
}

export interface SyntheticCohort {
  readonly children: readonly SyntheticChild[];
  /** Every child's events, ordered by occurredAt (then eventId). */
  readonly events: readonly AgencyEvent[];
  /** The identity cases planted for tests and the demo to find (absent when the cohort is too small). */
  readonly planted: PlantedCases;
  /** The `now` the cohort was generated for (ISO instant): nothing is dated after it. */
  readonly now: string;
}

export type PlantedRole = 'probabilistic-match' | 'twin' | 'cousin' | 'upn-conflict';

/** Stream ids are `${agency}-${recordId}`, as the store names them. */
export interface PlantedCases {
  /**
   * (a) One child whose school record (no NHS number, a misspelt given name, the address
   * before a house move) shares no identifier with their health record: should be proposed.
   */
  readonly probabilisticMatch?: {
    readonly childNumber: number;
    readonly streamIds: readonly [education: string, health: string];
  };
  /** (b) Twins: same family name, date of birth, sex and home; near-identical given names; different NHS numbers. */
  readonly twins?: {
    readonly childNumbers: readonly [number, number];
    readonly healthStreamIds: readonly [string, string];
  };
  /** (c) Cousins with the same given and family name, born in different years, living in different districts. */
  readonly cousins?: {
    readonly childNumbers: readonly [number, number];
    readonly healthStreamIds: readonly [string, string];
  };
  /** (d) Two school records with the same UPN and different NHS numbers: a conflict, never a merge. */
  readonly upnConflict?: {
    readonly upn: string;
    readonly childNumbers: readonly [number, number];
    readonly streamIds: readonly [string, string];
  };
}

/** Where the planted cases go: fixed positions for relatives, the first fitting child for the rest. */
const TWIN_AT = 5;
const COUSIN_AT = 8;
const PROBABILISTIC_MATCH_FROM = 12;
const UPN_CONFLICT_FROM = 16;

/** Shares of children with each everyday imperfection in their identity data. */
const MISNAMED_SHARE = 0.08;
const TEMPORARY_UPN_SHARE = 0.06;
const NHS_NUMBER_LEARNED_LATER_SHARE = 0.3;
const LA_TRANSFER_SHARE = 0.15;

interface PupilRef {
  readonly childNumber: number;
  readonly upn: string;
  readonly streamId: string;
}

/** What the generator remembers across children to plant the cases (only earlier children count). */
class Planting {
  firstTwin?: { sex: 'female' | 'male'; dateOfBirth: string; familyName: string; homes: PostcodeFrom[] };
  firstCousin?: {
    sex: 'female' | 'male';
    givenName: string;
    familyName: string;
    dateOfBirth: string;
    homes: PostcodeFrom[];
  };
  probabilisticMatch?: PlantedCases['probabilisticMatch'];
  upnConflict?: { upn: string; donor: PupilRef; childNumber: number };
  lastPupilHoldingNhs?: PupilRef;

  describe(children: readonly SyntheticChild[]): PlantedCases {
    const child = (number: number) => children[number - 1] as SyntheticChild | undefined;
    const pair = (first: number, role: PlantedRole) => {
      const [a, b] = [child(first), child(first + 1)];
      return a?.planted === role && b?.planted === role
        ? {
            childNumbers: [first, first + 1] as const,
            healthStreamIds: [
              `health-${a.records.health.recordId}`,
              `health-${b.records.health.recordId}`,
            ] as const,
          }
        : undefined;
    };
    const twins = pair(TWIN_AT, 'twin');
    const cousins = pair(COUSIN_AT, 'cousin');
    const conflict = this.upnConflict;
    const conflicted = conflict && child(conflict.childNumber)?.records.education[0];
    return {
      ...(this.probabilisticMatch ? { probabilisticMatch: this.probabilisticMatch } : {}),
      ...(twins ? { twins } : {}),
      ...(cousins ? { cousins } : {}),
      ...(conflict && conflicted
        ? {
            upnConflict: {
              upn: conflict.upn,
              childNumbers: [conflict.donor.childNumber, conflict.childNumber] as const,
              streamIds: [conflict.donor.streamId, `education-${conflicted.recordId}`] as const,
            },
          }
        : {}),
    };
  }
}

/**
 * A date of birth that disagrees with `other` in at least two of year, month and day:
 * `candidate` if it does, else 500 days either side; undefined when neither fits the range.
 */
function dateApartFrom(
  other: string,
  candidate: string,
  firstDay: number,
  lastDay: number,
): string | undefined {
  const apart = (date: string) =>
    date.slice(0, 4) !== other.slice(0, 4) && date.slice(5, 7) !== other.slice(5, 7);
  if (apart(candidate)) return candidate;
  for (const shift of [-500, 500]) {
    const day = dayNumber(other) + shift;
    if (day >= firstDay && day <= lastDay && apart(isoDateOf(day))) return isoDateOf(day);
  }
  return undefined;
}

/** Shares of records that carry each identifier. */
const EDUCATION_HOLDS_NHS = 0.6;
const SOCIAL_CARE_WITHOUT_IDENTIFIERS = 0.1;
const SOCIAL_CARE_HOLDS_NHS = 0.85;
const SOCIAL_CARE_HOLDS_UPN = 0.8;
const SEN_SERVICE_HOLDS_NHS = 0.75;

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
      'temporaryUpn' in record && record.temporaryUpn && `upn:${record.temporaryUpn.upn}`,
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

interface RecordsToSettle {
  readonly profile: ChildProfile;
  readonly role: PlantedRole | undefined;
  readonly homes: readonly PostcodeFrom[];
  readonly planned: readonly PlannedEducationRecord[];
  readonly sen: SenPlan;
  readonly senServiceHoldsNhs: boolean;
  readonly socialCareCarries: { readonly nhsNumber: boolean; readonly upn: boolean };
  readonly transfer: SocialCareRecord['transfer'];
  /** The planted conflict: the UPN the school keyed in error. */
  readonly misKeyedUpn: string | undefined;
  readonly upns: UpnIssuer;
  readonly identity: Random;
}

/**
 * Each agency's record with what it knows of the child: its own address lag, a misspelt name
 * or nickname in one of them, a temporary UPN, an NHS number the case system learns late.
 * Planted children get exactly their case's imperfections and no random ones.
 */
function settleRecords(settle: RecordsToSettle): {
  health: HealthRecord;
  education: EducationRecord[];
  senService?: SenServiceRecord;
  socialCare?: SocialCareRecord;
} {
  const { profile, role, homes, planned, identity } = settle;
  const episodes = profile.socialCare;
  const assessment = episodes?.find((episode) => episode.assessment)?.assessment;
  const misnamed = !role && identity.chance(MISNAMED_SHARE);
  const misnamedInSocialCare = episodes !== undefined && (!planned[0] || identity.chance(0.5));
  const variant = misrecordedName(profile.givenName, identity);
  const typo = misspell(profile.givenName, identity);
  const temporary = !role && planned[0] !== undefined && identity.chance(TEMPORARY_UPN_SHARE);
  const nhsLearnedLater = role !== 'twin' && identity.chance(NHS_NUMBER_LEARNED_LATER_SHARE);
  const demographicsFor = (lag: AddressLag, given = profile.givenName) =>
    recordedDemographics({ given, family: profile.familyName }, profile.sex, profile.dateOfBirth, homes, lag);

  const health = healthRecordOf(profile, demographicsFor('days'));

  const education = planned.map(({ nhsNumber, ...record }, index): EducationRecord => {
    const primary = index === 0;
    if (role === 'probabilistic-match')
      // No NHS number, a misspelt name, and an address the school never updated.
      return { ...record, demographics: demographicsFor('never', typo) };
    const school = SCHOOLS.find((candidate) => candidate.urn === record.schoolUrn)!;
    // Twins' and the mis-keyed pupil's schools hold the NHS number, so the records contradict.
    const holdsNhs = role === 'twin' || role === 'upn-conflict' || nhsNumber !== undefined;
    return {
      ...record,
      ...(settle.misKeyedUpn ? { upn: settle.misKeyedUpn } : {}),
      ...(temporary && primary
        ? {
            temporaryUpn: {
              upn: settle.upns.issueTemporary(school, Number(record.entryDate.slice(0, 4))),
              until: addDays(record.entryDate, identity.int(20, 120)),
            },
          }
        : {}),
      ...(holdsNhs ? { nhsNumber: profile.nhsNumber } : {}),
      demographics: demographicsFor(
        'next-september',
        misnamed && !misnamedInSocialCare && primary ? variant : profile.givenName,
      ),
    };
  });

  const firstSchool = education[0];
  const socialCare = episodes
    ? socialCareRecordOf(profile, planned[0]?.upn, settle.socialCareCarries, {
        demographics: demographicsFor(
          'same-day',
          misnamed && misnamedInSocialCare ? variant : profile.givenName,
        ),
        // The case system learns the UPN once the school has settled on a permanent one.
        ...(firstSchool
          ? {
              upnKnownFrom: firstSchool.temporaryUpn
                ? addDays(firstSchool.temporaryUpn.until, 150)
                : firstSchool.entryDate,
            }
          : {}),
        ...(nhsLearnedLater && assessment && assessment.authorisationDate < profile.horizon
          ? { nhsNumberKnownFrom: assessment.authorisationDate }
          : {}),
        ...(settle.transfer ? { transfer: settle.transfer } : {}),
      })
    : undefined;
  // The SEN service hears of the child with the request for an assessment.
  const request = settle.sen.ehc?.requestDate;
  const senService =
    request && request <= profile.horizon
      ? senServiceRecordOf(
          profile,
          // It learns the permanent UPN when the child starts school (after any temporary one).
          firstSchool && {
            upn: firstSchool.upn,
            from: firstSchool.temporaryUpn
              ? addDays(firstSchool.temporaryUpn.until, 150)
              : firstSchool.entryDate,
          },
          settle.senServiceHoldsNhs || !firstSchool || request < firstSchool.entryDate,
          demographicsFor('same-day'),
        )
      : undefined;
  return {
    health,
    education,
    ...(senService ? { senService } : {}),
    ...(socialCare ? { socialCare } : {}),
  };
}

/**
 * Generates synthetic children with multi-year, multi-agency histories as contract events.
 * Fictional names, identifiers in test or unused ranges: never anyone's real data. Each
 * agency's record holds the child as that agency knows them (name, sex, postcode, date of
 * birth, identifiers that change over time, with the lags and slips of real systems), and
 * four identity cases are planted for tests and the demo (`SyntheticCohort.planted`).
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
  const plants = new Planting();
  for (let number = 1; number <= size; number++) {
    const rng = new Random(seed, number, 'profile');
    // Identity details draw from their own stream, so they never shift the histories' draws.
    const identity = new Random(seed, number, 'identity');
    let sex: 'female' | 'male' = rng.chance(0.5) ? 'female' : 'male';
    let dateOfBirth = isoDateOf(rng.int(firstBirthDay, lastBirthDay));
    const needs = rng.weighted<NeedsLevel>([
      ['universal', 70],
      ['additional', 18],
      ['complex', 12],
    ]);
    let givenName: string = rng.pick(GIVEN_NAMES[sex]);
    let familyName: string = rng.pick(FAMILY_NAMES);
    let homes: PostcodeFrom[] | undefined;
    let homeOptions: HomeOptions = {};
    let role: PlantedRole | undefined;

    // Planted relatives: twins share everything but their given names and NHS numbers;
    // cousins share their names but neither their date of birth nor their district.
    const twin = plants.firstTwin;
    const cousin = plants.firstCousin;
    if (number === TWIN_AT) {
      givenName = TWIN_NAMES[sex][0];
      role = 'twin';
    } else if (number === TWIN_AT + 1 && twin) {
      ({ sex, dateOfBirth, familyName, homes } = twin);
      givenName = TWIN_NAMES[sex][1];
      role = 'twin';
    } else if (number === COUSIN_AT) {
      role = 'cousin';
    } else if (number === COUSIN_AT + 1 && cousin) {
      const apart = dateApartFrom(cousin.dateOfBirth, dateOfBirth, firstBirthDay, lastBirthDay);
      if (apart) {
        ({ sex, givenName, familyName } = cousin);
        dateOfBirth = apart;
        homeOptions = { avoidDistricts: cousin.homes.map((home) => home.postcode.split(' ')[0]) };
        role = 'cousin';
      }
    }

    const socialCareEpisodes = planSocialCare(
      dateOfBirth,
      horizon,
      needs,
      new Random(seed, number, 'social-care-plan'),
      new Random(seed, number, 'social-care-plan-extra'),
    );
    // Twins share the facts of their birth: drawn from one stream for both.
    const pregnancy = () => drawBirthFacts(new Random(seed, TWIN_AT, 'pregnancy'), true);
    const birth: BirthFacts | undefined =
      role !== 'twin'
        ? undefined
        : number === TWIN_AT
          ? pregnancy()
          : { ...pregnancy(), birthOrder: 2, birthMinute: pregnancy().birthMinute + rng.int(5, 25) };
    const firstAssessment = socialCareEpisodes?.find((episode) => episode.assessment)?.assessment;
    const transfer =
      firstAssessment && !role && identity.chance(LA_TRANSFER_SHARE)
        ? {
            on: firstAssessment.startDate,
            laCode: NEIGHBOURING_AUTHORITY.code,
            laChildId: `LF${String(number).padStart(6, '0')}`,
          }
        : undefined;
    homes ??= planHomes(identity, dateOfBirth, horizon, {
      ...homeOptions,
      ...(transfer ? { leftAuthorityOn: transfer.on } : {}),
    });
    const profile: ChildProfile = {
      number,
      givenName,
      familyName,
      sex,
      dateOfBirth,
      needs,
      nhsNumber: nhsNumberFor(seed, number),
      horizon,
      ...(socialCareEpisodes ? { socialCare: socialCareEpisodes } : {}),
      ...(birth ? { birth } : {}),
    };
    if (number === TWIN_AT) plants.firstTwin = { sex, dateOfBirth, familyName, homes };
    if (number === COUSIN_AT) plants.firstCousin = { sex, givenName, familyName, dateOfBirth, homes };

    const planned = planEducationRecords(
      profile,
      rng,
      upns,
      EDUCATION_HOLDS_NHS,
      new Random(seed, number, 'school-moves'),
    );
    const issuedUpn = planned[0]?.upn;
    const withoutIdentifiers = rng.chance(SOCIAL_CARE_WITHOUT_IDENTIFIERS);
    const holdsNhs = rng.chance(SOCIAL_CARE_HOLDS_NHS);
    const holdsUpn = rng.chance(SOCIAL_CARE_HOLDS_UPN) && issuedUpn !== undefined;

    // (a) A child whose school never held the NHS number, misspelt the name and missed a house move.
    const daysAtSchool = planned[0] ? dayNumber(horizon) - dayNumber(planned[0].entryDate) : 0;
    if (
      !role &&
      !plants.probabilisticMatch &&
      number >= PROBABILISTIC_MATCH_FROM &&
      !socialCareEpisodes &&
      planned[0] &&
      daysAtSchool > 400
    ) {
      role = 'probabilistic-match';
      const movedOn = addDays(planned[0].entryDate, identity.int(60, daysAtSchool - 300));
      homes = [homes[0], { from: movedOn, postcode: drawPostcodeElsewhere(identity, homes[0].postcode) }];
    }
    // (d) A school that keyed another pupil's UPN against this child's NHS number.
    const donor = plants.lastPupilHoldingNhs;
    if (
      !role &&
      !plants.upnConflict &&
      number >= UPN_CONFLICT_FROM &&
      !socialCareEpisodes &&
      planned[0] &&
      donor
    ) {
      role = 'upn-conflict';
      plants.upnConflict = { upn: donor.upn, donor, childNumber: number };
    }

    const sen = planSen(profile, planned, new Random(seed, number, 'sen'), role === undefined);
    const { health, education, senService, socialCare } = settleRecords({
      profile,
      role,
      homes,
      planned,
      sen,
      senServiceHoldsNhs: new Random(seed, number, 'sen-record').chance(SEN_SERVICE_HOLDS_NHS),
      socialCareCarries: {
        nhsNumber: role === 'twin' || (!withoutIdentifiers && (holdsNhs || !holdsUpn)),
        upn: role !== 'twin' && !withoutIdentifiers && holdsUpn,
      },
      transfer,
      misKeyedUpn: role === 'upn-conflict' ? plants.upnConflict?.upn : undefined,
      upns,
      identity,
    });
    const upn = issuedUpn;
    if (role === 'probabilistic-match')
      plants.probabilisticMatch = {
        childNumber: number,
        streamIds: [`education-${education[0].recordId}`, `health-${health.recordId}`],
      };
    if (!role && education[0]?.nhsNumber && !education[0].temporaryUpn)
      plants.lastPupilHoldingNhs = {
        childNumber: number,
        upn: education[0].upn,
        streamId: `education-${education[0].recordId}`,
      };

    // One stream per domain, so one domain's length never shifts another's ids.
    const sink = (domain: string) => new EventSink(new Random(seed, number, domain, 'ids'), horizon);
    const sinks = [sink('health'), sink('education'), sink('social-care'), sink('outcomes')] as const;
    generateHealthHistory(profile, health, new Random(seed, number, 'health'), sinks[0]);
    generateEducationHistory(
      profile,
      education,
      sen,
      senService,
      new Random(seed, number, 'education'),
      sinks[1],
    );
    const returnsSink = sink('looked-after-returns');
    const censusSink = sink('census-facts');
    if (socialCare) {
      generateSocialCareHistory(profile, socialCare, new Random(seed, number, 'social-care'), sinks[2]);
      generateLookedAfterReturnFacts(
        profile,
        socialCare,
        new Random(seed, number, 'looked-after-returns'),
        returnsSink,
      );
      generateCensusFacts(profile, socialCare, new Random(seed, number, 'census-facts'), censusSink);
    }
    const tracks = planTrajectories(profile, education, new Random(seed, number, 'trajectories'));
    const childRecords = { health, education, ...(socialCare ? { socialCare } : {}) };
    generateOutcomeObservations(
      profile,
      childRecords,
      tracks,
      new Random(seed, number, 'outcomes'),
      sinks[3],
    );
    // Who recorded each fact; then each decision's reviews, and the decisions of a plan open now.
    const facts = [...sinks.slice(0, 3), returnsSink, censusSink].flatMap((s) =>
      s.events.map((event) => annotate(event, seed)),
    );
    const context = { seed, profile, records: childRecords, ...(senService ? { senService } : {}), tracks };
    const reviews = facts.flatMap((event) =>
      event.type === 'practice.decision.recorded' ? reviewDecision(context, event, horizon) : [],
    );

    const childEvents = [
      ...facts,
      ...sinks[3].events,
      ...reviews,
      ...currentDecisions(context, horizon),
    ].filter(
      (event) =>
        Date.parse(event.occurredAt) <= now.getTime() && event.occurredAt.slice(0, 10) >= dateOfBirth,
    );
    events.push(...childEvents);
    const returnFactIds = new Set(returnsSink.events.map((event) => event.eventId));
    const records: AgencyRecord[] = [
      health,
      ...education,
      ...(senService ? [senService] : []),
      ...(socialCare ? [socialCare] : []),
    ];
    children.push({
      number,
      givenName,
      familyName,
      sex,
      dateOfBirth,
      needs,
      nhsNumber: profile.nhsNumber,
      ...(upn ? { upn } : {}),
      homes,
      ...(role ? { planted: role } : {}),
      records: {
        health,
        education,
        ...(senService ? { senService } : {}),
        ...(socialCare ? { socialCare } : {}),
      },
      linkage: linkageOf(records),
      trajectories: tracks.map(({ framework, domain, course, from, to }) => ({
        framework,
        domain,
        course,
        from,
        to,
      })),
      // The SSDA903 return facts leave the choice of the demo's example child as it was.
      eventCount: childEvents.filter((event) => !returnFactIds.has(event.eventId)).length,
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
  return { children, events, planted: plants.describe(children), now: now.toISOString() };
}

/** Agencies that hold a record of the child. */
export function agenciesOf(child: SyntheticChild): Agency[] {
  return [
    'health' as const,
    ...(child.records.education.length ? ['education' as const] : []),
    ...(child.records.socialCare ? ['social-care' as const] : []),
  ];
}
