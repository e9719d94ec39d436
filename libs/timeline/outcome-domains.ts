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

/**
 * Which ECM outcome each kind of agency fact is evidence about. A fact is evidence, never the
 * outcome itself: a screening result says something about "be healthy", a looked-after review
 * in which the child spoke says something about "make a positive contribution" (taking part in
 * decisions about one's life), and no single fact decides a domain.
 */
export const ECM_DOMAIN_OF_EVENT_TYPE: Readonly<Record<FactType, EcmDomain>> = {
  'health.health-visitor-review.completed': 'be-healthy',
  'health.immunisation.given': 'be-healthy',
  'health.emergency-care.attended': 'be-healthy',
  'health.safeguarding-concern.raised': 'stay-safe',
  'health.birth.notified': 'be-healthy',
  'health.newborn-hearing-screening.completed': 'be-healthy',
  'health.newborn-blood-spot.screened': 'be-healthy',
  'health.nipe.completed': 'be-healthy',
  'health.hospital.admitted': 'be-healthy',
  'health.hospital.discharged': 'be-healthy',
  'health.camhs.referred': 'be-healthy',
  'health.camhs.discharged': 'be-healthy',
  'health.observation.recorded': 'be-healthy',
  'health.flag.recorded': 'stay-safe',
  'education.enrolment.recorded': 'enjoy-and-achieve',
  'education.attendance.summarised': 'enjoy-and-achieve',
  'education.exclusion.recorded': 'enjoy-and-achieve',
  'education.leaving.recorded': 'enjoy-and-achieve',
  'education.sen-provision.changed': 'enjoy-and-achieve',
  'education.ehc-needs-assessment.requested': 'enjoy-and-achieve',
  'education.ehc-plan.issued': 'enjoy-and-achieve',
  'education.ehc-plan.ceased': 'enjoy-and-achieve',
  'education.eyfs-profile.assessed': 'enjoy-and-achieve',
  'education.key-stage.assessed': 'enjoy-and-achieve',
  'social-care.referral.received': 'stay-safe',
  'social-care.assessment.completed': 'stay-safe',
  'social-care.child-protection-plan.started': 'stay-safe',
  'social-care.contact.received': 'stay-safe',
  'social-care.section-47-enquiry.started': 'stay-safe',
  'social-care.section-47-enquiry.completed': 'stay-safe',
  'social-care.initial-child-protection-conference.held': 'stay-safe',
  'social-care.child-protection-plan.reviewed': 'stay-safe',
  'social-care.child-protection-plan.ended': 'stay-safe',
  'social-care.cin-plan.started': 'stay-safe',
  'social-care.cin-plan.ended': 'stay-safe',
  'social-care.looked-after-episode.started': 'stay-safe',
  'social-care.looked-after-episode.changed': 'stay-safe',
  'social-care.looked-after-episode.ended': 'stay-safe',
  'social-care.looked-after-review.held': 'make-a-positive-contribution',
  'social-care.missing-episode.recorded': 'stay-safe',
  'social-care.early-help-episode.started': 'stay-safe',
  'social-care.early-help-episode.ended': 'stay-safe',
  'social-care.case.closed': 'stay-safe',
  // Disabilities are what a characteristics record says about health; ethnicity has no ECM domain.
  'social-care.child-characteristics.recorded': 'be-healthy',
  // A UPN is the school census's identifier: its absence says something about education.
  'social-care.upn-unknown.recorded': 'enjoy-and-achieve',
  'social-care.death.recorded': 'stay-safe',
  'social-care.assessment.started': 'stay-safe',
  'social-care.pre-proceedings.started': 'stay-safe',
  'social-care.pre-proceedings.ended': 'stay-safe',
  'social-care.uasc-status.recorded': 'stay-safe',
  'social-care.uasc-status.ceased': 'stay-safe',
  'social-care.looked-after-outcomes.recorded': 'be-healthy',
  'social-care.care-leaver.contacted': 'achieve-economic-well-being',
  'social-care.adoption-match.recorded': 'stay-safe',
  'social-care.placement-for-adoption.decided': 'stay-safe',
  'social-care.placement-for-adoption.reversed': 'stay-safe',
  'social-care.previous-permanence.recorded': 'stay-safe',
  'social-care.social-worker.allocated': 'stay-safe',
  'social-care.social-worker.allocation-ended': 'stay-safe',
  'practice.decision.recorded': 'stay-safe',
  'practice.voice-of-child.recorded': 'make-a-positive-contribution',
  'practice.decision.reviewed': 'stay-safe',
  'practice.views.differ': 'stay-safe',
};

/**
 * The entry's one domain: an observation's own (or a views-differ record's, when it names one);
 * else the Every Child Matters domain the recording practitioner declared in the envelope's
 * `outcomeDomains` (it overrides the type's mapping); else the type's mapping.
 */
export function outcomeDomainOf(event: AgencyEvent): OutcomeDomainRef {
  if (event.type === 'outcome.observation.recorded') {
    return { framework: event.data.framework, domain: event.data.domain };
  }
  if (event.type === 'practice.views.differ' && event.data.framework && event.data.domain) {
    return { framework: event.data.framework, domain: event.data.domain };
  }
  const declared = event.outcomeDomains?.find((ref) => ref.framework === EVERY_CHILD_MATTERS.id);
  if (declared) return { framework: declared.framework, domain: declared.domain };
  return { framework: EVERY_CHILD_MATTERS.id, domain: ECM_DOMAIN_OF_EVENT_TYPE[event.type] };
}

/** The label of a domain in a known framework, or undefined for a framework not configured here. */
export function outcomeDomainLabel(ref: OutcomeDomainRef): string | undefined {
  return OUTCOME_FRAMEWORKS.find((framework) => framework.id === ref.framework)?.domains.find(
    (domain) => domain.id === ref.domain,
  )?.label;
}
