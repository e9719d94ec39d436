import { z } from 'zod';
import type { Agency } from './common';
import { educationEvents } from './education';
import { healthEvents } from './health';
import { healthRecordEvents } from './health-records';
import { outcomeEvents } from './outcomes';
import { socialCareEvents } from './social-care';
import { socialCareCensusEvents } from './social-care-census';
import { lookedAfterReturnEvents } from './looked-after-returns';

/** Every event type Throughline accepts, as one discriminated union on `type`. */
export const agencyEvent = z.discriminatedUnion('type', [
  ...healthEvents,
  ...healthRecordEvents,
  ...educationEvents,
  ...socialCareEvents,
  ...socialCareCensusEvents,
  ...lookedAfterReturnEvents,
  ...outcomeEvents,
]);

export type AgencyEvent = z.infer<typeof agencyEvent>;
export type EventType = AgencyEvent['type'];
export type EventOfType<T extends EventType> = Extract<AgencyEvent, { type: T }>;

/** Which agency may publish each type; `any` for cross-agency observations. */
export const EVENT_TYPE_AGENCY: Readonly<Record<EventType, Agency | 'any'>> = {
  'health.health-visitor-review.completed': 'health',
  'health.immunisation.given': 'health',
  'health.emergency-care.attended': 'health',
  'health.safeguarding-concern.raised': 'health',
  'health.birth.notified': 'health',
  'health.newborn-hearing-screening.completed': 'health',
  'health.newborn-blood-spot.screened': 'health',
  'health.nipe.completed': 'health',
  'health.hospital.admitted': 'health',
  'health.hospital.discharged': 'health',
  'health.camhs.referred': 'health',
  'health.camhs.discharged': 'health',
  'health.observation.recorded': 'health',
  'health.flag.recorded': 'health',
  'education.enrolment.recorded': 'education',
  'education.attendance.summarised': 'education',
  'education.exclusion.recorded': 'education',
  'education.leaving.recorded': 'education',
  'education.sen-provision.changed': 'education',
  'education.ehc-needs-assessment.requested': 'education',
  'education.ehc-plan.issued': 'education',
  'education.ehc-plan.ceased': 'education',
  'education.eyfs-profile.assessed': 'education',
  'education.key-stage.assessed': 'education',
  'social-care.referral.received': 'social-care',
  'social-care.assessment.completed': 'social-care',
  'social-care.child-protection-plan.started': 'social-care',
  'social-care.contact.received': 'social-care',
  'social-care.section-47-enquiry.started': 'social-care',
  'social-care.section-47-enquiry.completed': 'social-care',
  'social-care.initial-child-protection-conference.held': 'social-care',
  'social-care.child-protection-plan.reviewed': 'social-care',
  'social-care.child-protection-plan.ended': 'social-care',
  'social-care.cin-plan.started': 'social-care',
  'social-care.cin-plan.ended': 'social-care',
  'social-care.looked-after-episode.started': 'social-care',
  'social-care.looked-after-episode.changed': 'social-care',
  'social-care.looked-after-episode.ended': 'social-care',
  'social-care.looked-after-review.held': 'social-care',
  'social-care.missing-episode.recorded': 'social-care',
  'social-care.early-help-episode.started': 'social-care',
  'social-care.early-help-episode.ended': 'social-care',
  'social-care.case.closed': 'social-care',
  'social-care.child-characteristics.recorded': 'social-care',
  'social-care.upn-unknown.recorded': 'social-care',
  'social-care.death.recorded': 'social-care',
  'social-care.assessment.started': 'social-care',
  'social-care.pre-proceedings.started': 'social-care',
  'social-care.pre-proceedings.ended': 'social-care',
  'social-care.uasc-status.recorded': 'social-care',
  'social-care.uasc-status.ceased': 'social-care',
  'social-care.looked-after-outcomes.recorded': 'social-care',
  'social-care.care-leaver.contacted': 'social-care',
  'social-care.adoption-match.recorded': 'social-care',
  'social-care.placement-for-adoption.decided': 'social-care',
  'social-care.placement-for-adoption.reversed': 'social-care',
  'social-care.previous-permanence.recorded': 'social-care',
  'social-care.social-worker.allocated': 'social-care',
  'social-care.social-worker.allocation-ended': 'social-care',
  'outcome.observation.recorded': 'any',
  'practice.decision.recorded': 'any',
  'practice.voice-of-child.recorded': 'any',
  'practice.decision.reviewed': 'any',
  'practice.views.differ': 'any',
};

/**
 * Types that may be about an unborn child (`subject.expectedDateOfBirth`): pre-birth
 * safeguarding and planning. Every other type needs a born subject (rule
 * `pre-birth-not-allowed`). The birth notification is what turns an unborn subject into a born one.
 */
export const PRE_BIRTH_EVENT_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  'health.safeguarding-concern.raised',
  'social-care.contact.received',
  'social-care.referral.received',
  'social-care.assessment.completed',
  'social-care.section-47-enquiry.started',
  'social-care.section-47-enquiry.completed',
  'social-care.initial-child-protection-conference.held',
  'social-care.child-protection-plan.started',
  'social-care.child-protection-plan.reviewed',
  'social-care.child-protection-plan.ended',
  'social-care.cin-plan.started',
  'social-care.cin-plan.ended',
  'social-care.early-help-episode.started',
  'social-care.early-help-episode.ended',
  'social-care.case.closed',
  'social-care.child-characteristics.recorded',
  'social-care.upn-unknown.recorded',
  'social-care.assessment.started',
  'social-care.pre-proceedings.started',
  'social-care.pre-proceedings.ended',
  'outcome.observation.recorded',
  'practice.decision.recorded',
  'practice.decision.reviewed',
  'practice.views.differ',
]);

/**
 * Date fields of the data that may lie before the subject's birth: the start of something
 * that began while the child was unborn and is reported after the birth (a plan or episode
 * started pre-birth, the referral of a case closed later).
 */
export const MAY_PRECEDE_BIRTH: Readonly<Partial<Record<EventType, readonly string[]>>> = {
  'health.birth.notified': ['expectedDateOfBirth'],
  'social-care.assessment.completed': ['startDate'],
  'social-care.section-47-enquiry.completed': ['startDate'],
  'social-care.initial-child-protection-conference.held': ['section47StartDate'],
  'social-care.child-protection-plan.reviewed': ['planStartDate'],
  'social-care.child-protection-plan.ended': ['startDate'],
  'social-care.cin-plan.ended': ['startDate'],
  'social-care.early-help-episode.ended': ['startDate'],
  'social-care.case.closed': ['referralDate'],
  'social-care.pre-proceedings.ended': ['startDate'],
};

/**
 * Date fields of the data that are plans, not facts, and so may lie in the future (every
 * other date and date-time in the data may not: rule `not-in-future`).
 */
export const FUTURE_DATE_FIELDS: ReadonlySet<string> = new Set([
  'reviewDate',
  'nextReviewDate',
  'icpcTargetDate',
  'decisionDueDate',
  'expectedDateOfBirth',
  // A health record flag may stand until a date still to come (health.flag.recorded).
  'periodEnd',
]);

export const EVENT_TYPES = Object.keys(EVENT_TYPE_AGENCY) as EventType[];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.hasOwn(EVENT_TYPE_AGENCY, value);
}

export function mayPublish(agency: Agency, type: EventType): boolean {
  const owner = EVENT_TYPE_AGENCY[type];
  return owner === 'any' || owner === agency;
}

/** The event store stream of the agency subject record: `<agency>-<recordId>`. */
export function streamIdOf(event: Pick<AgencyEvent, 'source' | 'subject'>): string {
  return `${event.source.agency}-${event.subject.recordId}`;
}

/** The Kafka message key: the subject's agency record id, so one subject's events keep their order. */
export function kafkaKeyOf(event: Pick<AgencyEvent, 'subject'>): string {
  return event.subject.recordId;
}
