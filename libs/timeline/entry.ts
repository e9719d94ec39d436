import type { AgencyEvent, CurrentAgencyEvent } from '@throughline/contracts';
import { assertNever } from './assert-never';
import { outcomeDomainOf, type OutcomeDomainRef } from './outcome-domains';
import { attendancePercent, summarise } from './summarise';

/**
 * A timeline entry shows an indicator (a rating, an attendance %) BESIDE the narrative and
 * the perspective it came from; indicators are evidence about outcomes, not the outcome.
 */
export type EntryKind = 'fact' | 'observation';
export type Perspective = 'child' | 'family' | 'professional';
export type Confidence = 'low' | 'medium' | 'high';

export interface Indicator {
  readonly name: string;
  readonly value: number;
  /** A unit for measures such as `%`; absent for a rating on a scale. */
  readonly unit?: string;
  readonly scale?: { readonly name: string; readonly min: number; readonly max: number };
}

export interface EntryDetails {
  readonly kind: EntryKind;
  readonly indicator?: Indicator;
  readonly narrative?: string;
  readonly perspective?: Perspective;
  /** Who observed, e.g. "class teacher", "mother". */
  readonly observerRole?: string;
  readonly confidence?: Confidence;
  /** Decisions carry a review date. */
  readonly reviewDate?: string;
}

/** Where an event came from: the recorder writes topic/partition/offset/publisher into the store metadata. */
export interface Lineage {
  readonly eventId: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string;
  readonly storePosition: number;
  readonly publisher?: string;
  readonly sourceSystem: string;
  /** The contract version the agency sent and the store keeps (absent on entries projected before it was recorded). */
  readonly storedSchemaVersion?: number;
  /** The version the entry was built from: the stored event upcast to the current version of its type. */
  readonly schemaVersion?: number;
}

export interface TimelineEntryDraft {
  readonly position: bigint;
  readonly eventId: string;
  readonly streamId: string;
  readonly agency: string;
  readonly type: AgencyEvent['type'];
  /** As the agency reported it (with its offset). */
  readonly occurredAt: string;
  readonly summary: string;
  readonly outcomeDomain: OutcomeDomainRef;
  readonly details: EntryDetails;
  readonly lineage: Lineage;
  /** The special categories the event declared (none when absent): the access policy acts on them. */
  readonly specialCategories: readonly string[];
  /** ODS code, school URN or LA code of the organisation that recorded it, when the event says. */
  readonly sourceOrganisation?: string;
}

export interface RecordedPlace {
  readonly position: bigint;
  readonly streamId: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export function entryDetailsOf(event: CurrentAgencyEvent): EntryDetails {
  switch (event.type) {
    case 'health.health-visitor-review.completed':
      return {
        kind: 'fact',
        narrative: event.data.notes,
        perspective: 'professional',
        observerRole: 'health visitor',
      };
    case 'health.immunisation.given':
    case 'education.enrolment.recorded':
      return { kind: 'fact' };
    case 'health.emergency-care.attended':
      return { kind: 'fact', narrative: event.data.notes };
    case 'health.safeguarding-concern.raised':
      return {
        kind: 'fact',
        narrative: event.data.narrative,
        perspective: 'professional',
        observerRole: event.data.raisedBy,
      };
    case 'education.attendance.summarised': {
      const percent = attendancePercent(event.data);
      return {
        kind: 'fact',
        indicator: percent === undefined ? undefined : { name: 'attendance', value: percent, unit: '%' },
      };
    }
    case 'education.exclusion.recorded':
    case 'social-care.referral.received':
    case 'social-care.assessment.completed':
      return { kind: 'fact', narrative: event.data.narrative };
    case 'social-care.child-protection-plan.started':
      return { kind: 'fact', narrative: event.data.rationale, reviewDate: event.data.reviewDate };
    case 'health.birth.notified':
    case 'health.newborn-hearing-screening.completed':
    case 'health.newborn-blood-spot.screened':
    case 'health.nipe.completed':
    case 'education.ehc-plan.issued':
    case 'education.sen-provision.changed':
    case 'education.eyfs-profile.assessed':
    case 'education.key-stage.assessed':
      return { kind: 'fact' };
    case 'health.hospital.admitted':
    case 'health.hospital.discharged':
      return { kind: 'fact', narrative: event.data.notes };
    case 'health.camhs.referred':
    case 'health.camhs.discharged':
    case 'education.leaving.recorded':
    case 'education.ehc-needs-assessment.requested':
    case 'education.ehc-plan.ceased':
    case 'social-care.contact.received':
    case 'social-care.cin-plan.ended':
    case 'social-care.looked-after-episode.changed':
    case 'social-care.looked-after-episode.ended':
    case 'social-care.missing-episode.recorded':
    case 'social-care.early-help-episode.started':
    case 'social-care.early-help-episode.ended':
    case 'social-care.case.closed':
      return { kind: 'fact', narrative: event.data.narrative };
    case 'social-care.section-47-enquiry.started':
    case 'social-care.section-47-enquiry.completed':
    case 'social-care.initial-child-protection-conference.held':
    case 'social-care.child-protection-plan.ended':
    case 'social-care.looked-after-episode.started':
      return { kind: 'fact', narrative: event.data.rationale };
    case 'social-care.cin-plan.started':
      return { kind: 'fact', narrative: event.data.rationale, reviewDate: event.data.reviewDate };
    case 'social-care.child-protection-plan.reviewed':
      return { kind: 'fact', narrative: event.data.rationale, reviewDate: event.data.nextReviewDate };
    case 'social-care.looked-after-review.held':
      return { kind: 'fact', narrative: event.data.narrative, reviewDate: event.data.nextReviewDate };
    case 'practice.decision.recorded': {
      const { rationale, decidedBy, confidence, reviewDate } = event.data;
      return {
        kind: 'fact',
        narrative: rationale,
        perspective: 'professional',
        observerRole: decidedBy.role,
        confidence,
        reviewDate,
      };
    }
    case 'practice.voice-of-child.recorded':
      return {
        kind: 'observation',
        narrative: event.data.whatTheChildSaid,
        perspective: 'child',
        observerRole: event.data.capturedBy.role,
      };
    case 'outcome.observation.recorded': {
      const { rating, narrative, perspective, observerRole, confidence } = event.data;
      return {
        kind: 'observation',
        indicator: rating && {
          name: rating.scale,
          value: rating.value,
          scale: { name: rating.scale, min: rating.min, max: rating.max },
        },
        narrative,
        perspective,
        observerRole,
        confidence,
      };
    }
    case 'practice.decision.reviewed': {
      const { whatHappened, reviewedBy, confidence, nextReviewDate } = event.data;
      return {
        kind: 'fact',
        narrative: whatHappened,
        perspective: 'professional',
        observerRole: reviewedBy.role,
        confidence,
        reviewDate: nextReviewDate,
      };
    }
    case 'practice.views.differ':
      return { kind: 'observation', narrative: event.data.narrative };
    default:
      return assertNever(event);
  }
}

function stringOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

function numberOf(value: unknown): number | undefined {
  const number = typeof value === 'string' && value !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

export function lineageOf(
  event: AgencyEvent,
  recorded: RecordedPlace,
  storedVersion: number = event.schemaVersion,
): Lineage {
  const metadata = recorded.metadata;
  return {
    eventId: event.eventId,
    topic: stringOf(metadata.topic),
    partition: numberOf(metadata.partition),
    offset: stringOf(metadata.offset),
    storePosition: Number(recorded.position),
    publisher: stringOf(metadata.publisher) ?? stringOf(metadata.publisherId),
    sourceSystem: stringOf(metadata.sourceSystem) ?? event.source.system,
    storedSchemaVersion: storedVersion,
    schemaVersion: event.schemaVersion,
  };
}

/** Drops undefined fields so that stored jsonb and API responses carry only what applies. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

/**
 * The pure projection of one recorded event to its timeline row. `event` is in the current
 * version of its type; `storedVersion` is the version the store holds (the same unless upcast).
 */
export function timelineEntryOf(
  event: CurrentAgencyEvent,
  recorded: RecordedPlace,
  storedVersion: number = event.schemaVersion,
): TimelineEntryDraft {
  return {
    position: recorded.position,
    eventId: event.eventId,
    streamId: recorded.streamId,
    agency: event.source.agency,
    type: event.type,
    occurredAt: event.occurredAt,
    summary: summarise(event),
    outcomeDomain: outcomeDomainOf(event),
    details: compact(entryDetailsOf(event)),
    lineage: compact(lineageOf(event, recorded, storedVersion)),
    specialCategories: event.specialCategories ?? [],
    ...(event.source.organisation ? { sourceOrganisation: event.source.organisation } : {}),
  };
}
