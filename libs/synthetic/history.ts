import type { AgencyEvent, EventOfType, EventType, Subject } from '@throughline/contracts';
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
  /** 1 male, 2 female (the statutory returns' codes). */
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

export interface EducationRecord {
  readonly agency: 'education';
  readonly recordId: string;
  readonly schoolUrn: string;
  readonly entryDate: string;
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

export type AgencyRecord = HealthRecord | EducationRecord | SocialCareRecord;

/** The social-care episode, decided up front because health and school histories react to it. */
export interface SocialCareEpisode {
  readonly referralDate: string;
  readonly referralSource: EventOfType<'social-care.referral.received'>['data']['referralSource'];
  readonly noFurtherAction: boolean;
  readonly assessment?: { readonly startDate: string; readonly authorisationDate: string };
  readonly childProtectionPlan?: { readonly startDate: string; readonly endDate: string };
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
  readonly socialCare?: SocialCareEpisode;
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
    sex,
    postcode: postcodeOn(record.demographics, isoDate),
    dateOfBirth,
  };
  switch (record.agency) {
    case 'health':
      return { recordId: record.recordId, nhsNumber: record.nhsNumber, ...demographics };
    case 'education': {
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
