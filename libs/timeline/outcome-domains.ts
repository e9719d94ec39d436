import type { AgencyEvent, EventType } from '@throughline/contracts';

/**
 * Outcome frameworks are data, never workflow: a framework is a list of domains, and the
 * table below says which Every Child Matters domain an agency fact is evidence about.
 * An outcome observation names its own framework and domain.
 */
export interface OutcomeFramework {
  readonly id: string;
  readonly name: string;
  readonly domains: readonly { readonly id: string; readonly label: string }[];
}

export const EVERY_CHILD_MATTERS = {
  id: 'ecm',
  name: 'Every Child Matters',
  domains: [
    { id: 'be-healthy', label: 'Be healthy' },
    { id: 'stay-safe', label: 'Stay safe' },
    { id: 'enjoy-and-achieve', label: 'Enjoy and achieve' },
    { id: 'make-a-positive-contribution', label: 'Make a positive contribution' },
    { id: 'achieve-economic-well-being', label: 'Achieve economic well-being' },
  ],
} as const satisfies OutcomeFramework;

export type EcmDomain = (typeof EVERY_CHILD_MATTERS.domains)[number]['id'];

export const OUTCOME_FRAMEWORKS: readonly OutcomeFramework[] = [EVERY_CHILD_MATTERS];

export interface OutcomeDomainRef {
  readonly framework: string;
  readonly domain: string;
}

type FactType = Exclude<EventType, 'outcome.observation.recorded'>;

/** Which ECM outcome each kind of agency fact is evidence about. */
export const ECM_DOMAIN_OF_EVENT_TYPE: Readonly<Record<FactType, EcmDomain>> = {
  'health.health-visitor-review.completed': 'be-healthy',
  'health.immunisation.given': 'be-healthy',
  'health.emergency-care.attended': 'be-healthy',
  'health.safeguarding-concern.raised': 'stay-safe',
  'education.enrolment.recorded': 'enjoy-and-achieve',
  'education.attendance.summarised': 'enjoy-and-achieve',
  'education.exclusion.recorded': 'enjoy-and-achieve',
  'social-care.referral.received': 'stay-safe',
  'social-care.assessment.completed': 'stay-safe',
  'social-care.child-protection-plan.started': 'stay-safe',
};

export function outcomeDomainOf(event: AgencyEvent): OutcomeDomainRef {
  if (event.type === 'outcome.observation.recorded') {
    return { framework: event.data.framework, domain: event.data.domain };
  }
  return { framework: EVERY_CHILD_MATTERS.id, domain: ECM_DOMAIN_OF_EVENT_TYPE[event.type] };
}

/** The label of a domain in a known framework, or undefined for a framework not configured here. */
export function outcomeDomainLabel(ref: OutcomeDomainRef): string | undefined {
  return OUTCOME_FRAMEWORKS.find((framework) => framework.id === ref.framework)?.domains.find(
    (domain) => domain.id === ref.domain,
  )?.label;
}
