import { z } from 'zod';
import type { Agency } from './common';
import { educationEvents } from './education';
import { healthEvents } from './health';
import { outcomeEvents } from './outcomes';
import { socialCareEvents } from './social-care';

/** Every event type Throughline accepts, as one discriminated union on `type`. */
export const agencyEvent = z.discriminatedUnion('type', [
  ...healthEvents,
  ...educationEvents,
  ...socialCareEvents,
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
  'education.enrolment.recorded': 'education',
  'education.attendance.summarised': 'education',
  'education.exclusion.recorded': 'education',
  'social-care.referral.received': 'social-care',
  'social-care.assessment.completed': 'social-care',
  'social-care.child-protection-plan.started': 'social-care',
  'outcome.observation.recorded': 'any',
};

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
