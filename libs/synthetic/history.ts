import type { AgencyEvent, EventOfType, EventType, Subject } from '@throughline/contracts';
import { atMinute } from './calendar';
import type { Random } from './random';

/** How much help a child's family needs; it drives how eventful their history is. */
export type NeedsLevel = 'universal' | 'additional' | 'complex';

export interface HealthRecord {
  readonly agency: 'health';
  readonly recordId: string;
  readonly nhsNumber: string;
}

export interface EducationRecord {
  readonly agency: 'education';
  readonly recordId: string;
  readonly schoolUrn: string;
  readonly entryDate: string;
  readonly upn: string;
  /** Only some school systems hold the NHS number. */
  readonly nhsNumber?: string;
}

export interface SocialCareRecord {
  readonly agency: 'social-care';
  readonly recordId: string;
  readonly laCode: string;
  readonly laChildId: string;
  /** Absent on purpose for a share of records, which then cannot link deterministically. */
  readonly nhsNumber?: string;
  readonly upn?: string;
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

export function subjectOf(record: AgencyRecord, dateOfBirth: string, withUpn = true): Subject {
  switch (record.agency) {
    case 'health':
      return { recordId: record.recordId, nhsNumber: record.nhsNumber, dateOfBirth };
    case 'education':
      return {
        recordId: record.recordId,
        upn: record.upn,
        ...(record.nhsNumber ? { nhsNumber: record.nhsNumber } : {}),
        dateOfBirth,
      };
    case 'social-care':
      return {
        recordId: record.recordId,
        laChildId: record.laChildId,
        laCode: record.laCode,
        ...(record.nhsNumber ? { nhsNumber: record.nhsNumber } : {}),
        ...(record.upn && withUpn ? { upn: record.upn } : {}),
        dateOfBirth,
      };
  }
}
