import {
  sexCodeOn,
  type AgencyEvent,
  type EventOfType,
  type EventType,
  type Subject,
} from '@throughline/contracts';
import { atMinute } from './calendar';
import type { Random } from './random';

/** How much help a child's family needs; it drives how eventful their history is. */
export type NeedsLevel = 'universal' | 'additional' | 'complex';

/** A home postcode from a date, as one agency holds it. */
export interface PostcodeFrom {
  readonly from: string;
  readonly postcode: string;
}

/**
 * Who the child is as one agency records them: each agency keys its own record, so a
 * name can be misspelt or shortened in one of them and an address goes out of date.
 */
export interface RecordedDemographics {
  readonly name: { readonly given: string; readonly family: string };
  /** 1 male, 2 female; an event states it in the code of its year (`sexCodeOn`: M/F from 2024-25). */
  readonly sex: '1' | '2';
  readonly dateOfBirth: string;
  /** Ordered by `from`; the first applies from birth. */
  readonly postcodes: readonly PostcodeFrom[];
}

export interface HealthRecord {
  readonly agency: 'health';
  readonly recordId: string;
  readonly nhsNumber: string;
  readonly demographics: RecordedDemographics;
}

type YearGroup = EventOfType<'education.enrolment.recorded'>['data']['yearGroup'];
type LeavingReason = EventOfType<'education.leaving.recorded'>['data']['reason'];
type ExclusionReason = EventOfType<'education.exclusion.recorded'>['data']['reasons'][number];

/** Why and when a pupil left a school's roll, and where to (planned: it may lie beyond the horizon). */
export interface SchoolLeaving {
  readonly date: string;
  readonly reason: LeavingReason;
  /** The next school, when known: the URN of the pupil's next school record. */
  readonly destinationUrn?: string;
  readonly destinationUnknown: boolean;
}

export interface EducationRecord {
  readonly agency: 'education';
  readonly recordId: string;
  readonly schoolUrn: string;
  readonly entryDate: string;
  /** R at reception, 7 at secondary transfer, the current year for a move mid-phase. */
  readonly entryYearGroup: YearGroup;
  readonly leaving?: SchoolLeaving;
  /** The permanent exclusion that ended this school place (the leaving follows the governors' decision). */
  readonly permanentExclusion?: {
    readonly startDate: string;
    readonly governorsDecidedOn: string;
    readonly reasons: readonly ExclusionReason[];
  };
  /** The permanent UPN (or, for the planted conflict, a UPN keyed in error). */
  readonly upn: string;
  /** A temporary UPN the school used until the permanent one came through. */
  readonly temporaryUpn?: { readonly upn: string; readonly until: string };
  /** Only some school systems hold the NHS number. */
  readonly nhsNumber?: string;
  readonly demographics: RecordedDemographics;
}

export interface SocialCareRecord {
  readonly agency: 'social-care';
  readonly recordId: string;
  readonly laCode: string;
  readonly laChildId: string;
  /** Absent on purpose for a share of records, which then cannot link deterministically. */
  readonly nhsNumber?: string;
  /** The case system learns the NHS number on this date (from the first event when absent). */
  readonly nhsNumberKnownFrom?: string;
  readonly upn?: string;
  /** The case system learns the UPN on this date (once the child has a permanent one). */
  readonly upnKnownFrom?: string;
  /** The family moved to a neighbouring authority, which took the case on under its own id. */
  readonly transfer?: { readonly on: string; readonly laCode: string; readonly laChildId: string };
  readonly demographics: RecordedDemographics;
}

/** The LA SEN service's record of a child it assesses for an EHC plan (SEN2), keyed by its own case id. */
export interface SenServiceRecord {
  readonly agency: 'education';
  readonly recordId: string;
  readonly laCode: string;
  /** Absent until the child has a school place (an early-years request knows only the NHS number). */
  readonly upn?: string;
  readonly upnKnownFrom?: string;
  readonly nhsNumber?: string;
  readonly demographics: RecordedDemographics;
}

export type AgencyRecord = HealthRecord | EducationRecord | SenServiceRecord | SocialCareRecord;

type Data<T extends EventType> = EventOfType<T>['data'];
export type ReferralSource = Data<'social-care.referral.received'>['referralSource'];
export type PrimaryNeed = NonNullable<Data<'social-care.referral.received'>['primaryNeed']>;
export type AssessmentFactor = NonNullable<Data<'social-care.assessment.completed'>['factors']>[number];
export type AbuseCategory = Data<'social-care.child-protection-plan.started'>['initialCategory'];
export type LegalStatus = Data<'social-care.looked-after-episode.started'>['legalStatus'];
export type PlacementType = Data<'social-care.looked-after-episode.started'>['placement'];
export type PlacementProvider = NonNullable<
  Data<'social-care.looked-after-episode.started'>['placementProvider']
>;
export type EarlyHelpNeed = Data<'social-care.early-help-episode.started'>['needs'][number];
export type SenProvision = Data<'education.enrolment.recorded'>['senProvision'];
export type RankedSenNeeds = NonNullable<Data<'education.sen-provision.changed'>['needs']>;

export interface EarlyHelpPlan {
  readonly startDate: string;
  readonly endDate: string;
  readonly needs: readonly EarlyHelpNeed[];
  readonly leadPractitioner: string;
  readonly endReason: Data<'social-care.early-help-episode.ended'>['reason'];
}

export interface ProtectionPlanReview {
  readonly date: string;
  readonly latestCategory: AbuseCategory;
  readonly continues: boolean;
  readonly nextReviewDate?: string;
}

export interface ProtectionPlan {
  readonly startDate: string;
  readonly endDate: string;
  readonly initialCategory: AbuseCategory;
  readonly latestCategory: AbuseCategory;
  readonly previousPlans: number;
  readonly reviews: readonly ProtectionPlanReview[];
  readonly endReason: NonNullable<Data<'social-care.child-protection-plan.ended'>['reason']>;
}

export interface CinPlan {
  readonly startDate: string;
  readonly endDate: string;
  readonly endReason: NonNullable<Data<'social-care.cin-plan.ended'>['reason']>;
}

/** One SSDA903 episode: the legal status and placement from a date (the first is the start of care). */
export interface PlacementStage {
  readonly from: string;
  readonly legalStatus: LegalStatus;
  readonly placement: PlacementType;
  readonly provider: PlacementProvider;
  readonly reasonForNewEpisode?: Data<'social-care.looked-after-episode.changed'>['reasonForNewEpisode'];
  readonly reasonPlaceChange?: Data<'social-care.looked-after-episode.changed'>['reasonPlaceChange'];
}

export interface MissingEpisode {
  readonly kind: Data<'social-care.missing-episode.recorded'>['kind'];
  readonly startDate: string;
  readonly endDate: string;
  readonly returnInterviewOffered: boolean;
  readonly returnInterviewAccepted: boolean;
}

export interface LookedAfterPlan {
  readonly startDate: string;
  /** Care proceedings (an order) or accommodation with the parents' agreement (section 20). */
  readonly route: 'care-proceedings' | 'section-20';
  readonly needCategory: Data<'social-care.looked-after-episode.started'>['needCategory'];
  readonly stages: readonly PlacementStage[];
  readonly reviews: readonly { readonly date: string; readonly nextReviewDate: string }[];
  readonly missing: readonly MissingEpisode[];
  /** Absent while the child stays looked after (long-term care). */
  readonly end?: {
    readonly date: string;
    readonly reason: Data<'social-care.looked-after-episode.ended'>['reasonEnded'];
  };
}

/**
 * The child's time with children's social care, decided up front because the health and
 * school histories react to it. Dates are planned; events after the horizon are never sent.
 * A contact may end at the front door, go to early help, or become a referral (CIN episode).
 */
export interface SocialCareEpisode {
  readonly contact: {
    readonly date: string;
    readonly source: ReferralSource;
    readonly outcome: NonNullable<Data<'social-care.contact.received'>['outcome']>;
  };
  /** Early help before the referral (stepped up) or after the case closed (stepped down). */
  readonly earlyHelp: readonly EarlyHelpPlan[];
  readonly referral?: {
    readonly date: string;
    readonly primaryNeed: PrimaryNeed;
    readonly noFurtherAction: boolean;
  };
  readonly assessment?: {
    readonly startDate: string;
    readonly authorisationDate: string;
    readonly factors: readonly AssessmentFactor[];
    /** What the assessment led to: no further action, early help, a CIN plan, a section 47 enquiry or care. */
    readonly outcome: 'nfa' | 'early-help' | 'cin' | 's47' | 'looked-after';
  };
  readonly section47?: {
    readonly strategyDiscussionDate: string;
    readonly startDate: string;
    readonly icpcTargetDate: string;
    readonly completedDate: string;
    readonly outcome: NonNullable<Data<'social-care.section-47-enquiry.completed'>['outcome']>;
  };
  readonly conference?: {
    readonly date: string;
    readonly planRequired: boolean;
    readonly category?: AbuseCategory;
  };
  readonly childProtectionPlan?: ProtectionPlan;
  readonly cinPlans: readonly CinPlan[];
  readonly lookedAfter?: LookedAfterPlan;
  /** Missing from home while the case is open (not in care): adolescents at risk of exploitation. */
  readonly missingFromHome?: readonly MissingEpisode[];
  /** The CIN episode closed (absent while the case is open). */
  readonly closure?: {
    readonly date: string;
    readonly reason: NonNullable<Data<'social-care.case.closed'>['reason']>;
  };
}

/** A child's episodes with children's social care, in order (a later one starts after the earlier one ended). */
export type SocialCareHistory = readonly SocialCareEpisode[];

/** The placement on a date, while the child is looked after. */
export function placementOn(
  history: SocialCareHistory | undefined,
  isoDate: string,
): PlacementStage | undefined {
  for (const episode of history ?? []) {
    const care = episode.lookedAfter;
    if (!care || isoDate < care.startDate || (care.end && isoDate >= care.end.date)) continue;
    let current = care.stages[0];
    for (const stage of care.stages) if (stage.from <= isoDate) current = stage;
    return current;
  }
  return undefined;
}

/** CP-IS shares child protection plans and looked-after status with unscheduled care. */
export function cpisFlagOn(history: SocialCareHistory | undefined, isoDate: string): boolean {
  const onPlan = (history ?? []).some(
    ({ childProtectionPlan: plan }) =>
      plan !== undefined && plan.startDate <= isoDate && isoDate < plan.endDate,
  );
  return onPlan || placementOn(history, isoDate) !== undefined;
}

/** Whether a referral is open (between the referral and the closure) on a date. */
export function caseOpenOn(history: SocialCareHistory | undefined, isoDate: string): boolean {
  return (history ?? []).some(
    (episode) =>
      episode.referral !== undefined &&
      episode.referral.date <= isoDate &&
      (!episode.closure || isoDate <= episode.closure.date),
  );
}

/** A change of SEN provision as the school census will report it (the true trajectory, not one school's view). */
export interface SenChange {
  readonly date: string;
  readonly provision: SenProvision;
  readonly needs?: RankedSenNeeds;
}

/** An EHC needs assessment: requested, the decision to assess, perhaps a plan (perhaps ceased later). */
export interface EhcJourney {
  readonly requestDate: string;
  readonly requestSource: Data<'education.ehc-needs-assessment.requested'>['requestSource'];
  /** The SEN panel's decision whether to assess (statutory: within six weeks). */
  readonly decidedOn: string;
  readonly agreedToAssess: boolean;
  readonly plan?: {
    readonly issueDate: string;
    readonly needs: RankedSenNeeds;
    readonly ceased?: { readonly date: string; readonly reason: Data<'education.ehc-plan.ceased'>['reason'] };
  };
}

/** A child's special educational needs over time and how they do at school. */
export interface SenPlan {
  readonly initial: SenProvision;
  readonly initialNeeds?: RankedSenNeeds;
  readonly changes: readonly SenChange[];
  readonly ehc?: EhcJourney;
  /** Latent attainment (about 0 = national average, in standard deviations); drives EYFS and key stages. */
  readonly attainment: number;
}

/** The provision (and needs) in force on a date. */
export function senOn(plan: SenPlan, isoDate: string): { provision: SenProvision; needs?: RankedSenNeeds } {
  let current: { provision: SenProvision; needs?: RankedSenNeeds } = {
    provision: plan.initial,
    ...(plan.initialNeeds ? { needs: plan.initialNeeds } : {}),
  };
  for (const change of plan.changes)
    if (change.date <= isoDate)
      current = { provision: change.provision, ...(change.needs ? { needs: change.needs } : {}) };
  return current;
}

/** The facts of a birth shared by twins (drawn once for both). */
export interface BirthFacts {
  /** Twins (or more): lighter, earlier, born in an obstetric unit. */
  readonly multiple: boolean;
  readonly gestationWeeks: number;
  readonly deliveryPlace: Data<'health.birth.notified'>['deliveryPlace'];
  /** Minute of the day of the birth. */
  readonly birthMinute: number;
  readonly birthOrder: number;
  /** Days the expected date of birth lay after (or before, negative) the birth. */
  readonly expectedDateOffset: number;
}

/** What every domain generator knows about the child. */
export interface ChildProfile {
  readonly number: number;
  readonly givenName: string;
  readonly familyName: string;
  readonly sex: 'female' | 'male';
  readonly dateOfBirth: string;
  readonly needs: NeedsLevel;
  readonly nhsNumber: string;
  /** Last day histories are generated for (end of endYear or today, whichever is earlier). */
  readonly horizon: string;
  /** Absent for the children never known to social care. */
  readonly socialCare?: SocialCareHistory;
  /** Set for a multiple birth, whose facts the children share; singletons draw their own. */
  readonly birth?: BirthFacts;
}

type EventFields<T extends EventType> = Omit<
  EventOfType<T>,
  'eventId' | 'type' | 'schemaVersion' | 'occurredAt'
>;

/**
 * Collects one child's events in one domain. Ids come from the domain's own stream, drawn
 * for every event (kept or not) so a later `now` never renumbers earlier events.
 */
export class EventSink {
  readonly events: AgencyEvent[] = [];

  /** The last minute used on each day by `emitNext`, so same-day events keep the order they are emitted in. */
  private readonly lastMinuteOn = new Map<string, number>();

  constructor(
    private readonly ids: Random,
    private readonly horizon: string,
  ) {}

  emit<T extends EventType>(type: T, occurredAt: string, fields: EventFields<T>): string {
    const eventId = this.ids.uuid();
    if (occurredAt.slice(0, 10) <= this.horizon) {
      this.events.push({ eventId, type, schemaVersion: 1, occurredAt, ...fields } as unknown as AgencyEvent);
    }
    return eventId;
  }

  /** An event dated on `isoDate` at a working-hours minute drawn from `rng`. */
  emitOn<T extends EventType>(type: T, isoDate: string, rng: Random, fields: EventFields<T>): string {
    return this.emit(type, atMinute(isoDate, rng.int(8 * 60, 17 * 60)), fields);
  }

  /**
   * An event dated on `isoDate`, later in the day than any event this sink emitted on that day
   * with `emitNext`: a decision before the action it decides, a plan's end before what replaces it.
   */
  emitNext<T extends EventType>(type: T, isoDate: string, rng: Random, fields: EventFields<T>): string {
    const last = this.lastMinuteOn.get(isoDate);
    const minute =
      last === undefined ? rng.int(8 * 60, 12 * 60) : Math.min(last + rng.int(5, 40), 24 * 60 - 1);
    this.lastMinuteOn.set(isoDate, minute);
    return this.emit(type, atMinute(isoDate, minute), fields);
  }
}

/** The postcode an agency holds on a date. */
export function postcodeOn(demographics: RecordedDemographics, isoDate: string): string {
  let postcode = demographics.postcodes[0].postcode;
  for (const entry of demographics.postcodes) if (entry.from <= isoDate) postcode = entry.postcode;
  return postcode;
}

/** The LA code and id the case is held under on a date. */
export function caseHolderOn(
  record: SocialCareRecord,
  isoDate: string,
): { laCode: string; laChildId: string } {
  return record.transfer && isoDate >= record.transfer.on
    ? { laCode: record.transfer.laCode, laChildId: record.transfer.laChildId }
    : { laCode: record.laCode, laChildId: record.laChildId };
}

/** The subject as the agency's system states it on `isoDate`: identifiers it holds then, and demographics. */
export function subjectOn(record: AgencyRecord, isoDate: string): Subject {
  const { name, sex, dateOfBirth } = record.demographics;
  const demographics = {
    name: { ...name },
    sex: sexCodeOn(isoDate, sex === '1' ? 'male' : 'female'),
    postcode: postcodeOn(record.demographics, isoDate),
    dateOfBirth,
  };
  switch (record.agency) {
    case 'health':
      return { recordId: record.recordId, nhsNumber: record.nhsNumber, ...demographics };
    case 'education': {
      if (!('schoolUrn' in record)) {
        const knowsUpn = record.upn && (!record.upnKnownFrom || isoDate >= record.upnKnownFrom);
        return {
          recordId: record.recordId,
          ...(knowsUpn ? { upn: record.upn } : {}),
          ...(record.nhsNumber ? { nhsNumber: record.nhsNumber } : {}),
          ...demographics,
        };
      }
      const temporary = record.temporaryUpn && isoDate < record.temporaryUpn.until;
      return {
        recordId: record.recordId,
        upn: temporary ? record.temporaryUpn!.upn : record.upn,
        ...(record.temporaryUpn && !temporary ? { formerUpn: record.temporaryUpn.upn } : {}),
        ...(record.nhsNumber ? { nhsNumber: record.nhsNumber } : {}),
        ...demographics,
      };
    }
    case 'social-care': {
      const knowsNhs =
        record.nhsNumber && (!record.nhsNumberKnownFrom || isoDate >= record.nhsNumberKnownFrom);
      const knowsUpn = record.upn && (!record.upnKnownFrom || isoDate >= record.upnKnownFrom);
      return {
        recordId: record.recordId,
        ...caseHolderOn(record, isoDate),
        ...(knowsNhs ? { nhsNumber: record.nhsNumber } : {}),
        ...(knowsUpn ? { upn: record.upn } : {}),
        ...demographics,
      };
    }
  }
}
