import { randomInt, randomUUID } from 'node:crypto';
import { makeNhsNumber, makeUpn, type EventOfType, type EventType } from '@throughline/contracts';

/**
 * Builders of valid, synthetic agency events: one per event type, each field overridable.
 * `subject`, `source` and `data` are merged one level deep, so `{ data: { dose: 2 } }` keeps
 * the other data fields. Identifiers are fresh and pass their check algorithms.
 */

export type EventOverrides<T extends EventType> = Partial<
  Omit<EventOfType<T>, 'subject' | 'source' | 'data'>
> & {
  subject?: Partial<EventOfType<T>['subject']>;
  source?: Partial<EventOfType<T>['source']>;
  data?: Partial<EventOfType<T>['data']>;
};

function digits(count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += String(randomInt(10));
  return out;
}

/** An NHS number in the 999 range, which is never issued to a person. */
export function freshNhsNumber(): string {
  for (;;) {
    const candidate = makeNhsNumber(`999${digits(6)}`);
    if (candidate) return candidate;
  }
}

export function freshUpn(): string {
  return makeUpn(digits(12));
}

export function freshRecordId(prefix = 'rec'): string {
  return `${prefix}-${randomUUID()}`;
}

/** Today as YYYY-MM-DD, minus some days. */
function daysAgo(days: number, now = new Date()): string {
  return new Date(now.getTime() - days * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
}

function merge<T extends EventType>(base: EventOfType<T>, overrides: EventOverrides<T>): EventOfType<T> {
  return {
    ...base,
    ...overrides,
    subject: { ...base.subject, ...overrides.subject },
    source: { ...base.source, ...overrides.source },
    data: { ...base.data, ...overrides.data },
  } as EventOfType<T>;
}

function envelope<T extends EventType>(type: T) {
  return {
    eventId: randomUUID(),
    type,
    schemaVersion: 1 as const,
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
  };
}

const YOUNG_CHILD_BORN = () => daysAgo(800);
const SCHOOL_CHILD_BORN = () => daysAgo(9 * 365);

const builders: { [T in EventType]: () => EventOfType<T> } = {
  'health.health-visitor-review.completed': () => ({
    ...envelope('health.health-visitor-review.completed'),
    source: { agency: 'health', system: 'demo-child-health-system', organisation: 'RX1' },
    subject: { recordId: freshRecordId('chs'), nhsNumber: freshNhsNumber(), dateOfBirth: YOUNG_CHILD_BORN() },
    data: {
      review: '2-2.5-year',
      reviewDate: daysAgo(1),
      asq3: { communication: 45, grossMotor: 50, fineMotor: 40, problemSolving: 45, personalSocial: 50 },
      concernsIdentified: false,
      notes: 'Synthetic review: settled, playing with blocks, says a few words.',
    },
  }),
  'health.immunisation.given': () => ({
    ...envelope('health.immunisation.given'),
    source: { agency: 'health', system: 'demo-child-health-system' },
    subject: { recordId: freshRecordId('chs'), nhsNumber: freshNhsNumber(), dateOfBirth: YOUNG_CHILD_BORN() },
    data: { vaccine: 'MMR', dose: 1, givenDate: daysAgo(1), batchNumber: 'SYN-0001' },
  }),
  'health.emergency-care.attended': () => ({
    ...envelope('health.emergency-care.attended'),
    source: { agency: 'health', system: 'demo-ed-system', organisation: 'RX1' },
    subject: { recordId: freshRecordId('ed'), nhsNumber: freshNhsNumber(), dateOfBirth: YOUNG_CHILD_BORN() },
    data: {
      arrivedAt: new Date(Date.now() - 2 * 60 * 60 * 1000).toISOString(),
      chiefComplaint: 'Fall from sofa',
      injury: true,
      discharge: 'home',
      cpisFlagSeen: false,
      safeguardingConcern: false,
    },
  }),
  'health.safeguarding-concern.raised': () => ({
    ...envelope('health.safeguarding-concern.raised'),
    source: { agency: 'health', system: 'demo-child-health-system' },
    subject: { recordId: freshRecordId('chs'), nhsNumber: freshNhsNumber(), dateOfBirth: YOUNG_CHILD_BORN() },
    data: {
      category: 'neglect',
      raisedBy: 'health visitor',
      referredToLocalAuthority: true,
      narrative: 'Synthetic narrative: home conditions of concern at a routine visit.',
    },
  }),
  'education.enrolment.recorded': () => ({
    ...envelope('education.enrolment.recorded'),
    source: { agency: 'education', system: 'demo-school-mis', organisation: '100001' },
    subject: { recordId: freshRecordId('pupil'), upn: freshUpn(), dateOfBirth: SCHOOL_CHILD_BORN() },
    data: { schoolUrn: '100001', entryDate: daysAgo(30), yearGroup: '4', senProvision: 'N' },
  }),
  'education.attendance.summarised': () => ({
    ...envelope('education.attendance.summarised'),
    source: { agency: 'education', system: 'demo-school-mis', organisation: '100001' },
    subject: { recordId: freshRecordId('pupil'), upn: freshUpn(), dateOfBirth: SCHOOL_CHILD_BORN() },
    data: {
      schoolUrn: '100001',
      academicYear: '2024/25',
      term: 'autumn',
      sessionsPossible: 140,
      authorisedAbsence: 6,
      unauthorisedAbsence: 2,
    },
  }),
  'education.exclusion.recorded': () => ({
    ...envelope('education.exclusion.recorded'),
    source: { agency: 'education', system: 'demo-school-mis', organisation: '100001' },
    subject: { recordId: freshRecordId('pupil'), upn: freshUpn(), dateOfBirth: SCHOOL_CHILD_BORN() },
    data: { schoolUrn: '100001', category: 'SUSP', startDate: daysAgo(3), sessions: 2, reasons: ['DB'] },
  }),
  'social-care.referral.received': () => ({
    ...envelope('social-care.referral.received'),
    source: { agency: 'social-care', system: 'demo-case-system', organisation: '926' },
    subject: {
      recordId: freshRecordId('case'),
      laChildId: `C${digits(6)}`,
      laCode: '926',
      dateOfBirth: SCHOOL_CHILD_BORN(),
    },
    data: { referralDate: daysAgo(2), referralSource: '2A', primaryNeed: 'N1', noFurtherAction: false },
  }),
  'social-care.assessment.completed': () => ({
    ...envelope('social-care.assessment.completed'),
    source: { agency: 'social-care', system: 'demo-case-system', organisation: '926' },
    subject: {
      recordId: freshRecordId('case'),
      laChildId: `C${digits(6)}`,
      laCode: '926',
      dateOfBirth: SCHOOL_CHILD_BORN(),
    },
    data: { startDate: daysAgo(40), authorisationDate: daysAgo(5), factors: ['3B', '16A'] },
  }),
  'social-care.child-protection-plan.started': () => ({
    ...envelope('social-care.child-protection-plan.started'),
    source: { agency: 'social-care', system: 'demo-case-system', organisation: '926' },
    subject: {
      recordId: freshRecordId('case'),
      laChildId: `C${digits(6)}`,
      laCode: '926',
      dateOfBirth: SCHOOL_CHILD_BORN(),
    },
    data: {
      startDate: daysAgo(1),
      initialCategory: 'NEG',
      numberOfPreviousPlans: 0,
      rationale: 'Synthetic rationale: conference agreed a plan under the category of neglect.',
      reviewDate: daysAgo(-90),
    },
  }),
  'outcome.observation.recorded': () => ({
    ...envelope('outcome.observation.recorded'),
    source: { agency: 'health', system: 'demo-child-health-system' },
    subject: { recordId: freshRecordId('chs'), nhsNumber: freshNhsNumber(), dateOfBirth: YOUNG_CHILD_BORN() },
    data: {
      framework: 'ecm',
      domain: 'be-healthy',
      perspective: 'professional',
      observerRole: 'health visitor',
      observedOn: daysAgo(1),
      narrative: 'Synthetic observation: gaining weight steadily, parent engaging with advice.',
      rating: { scale: 'ten-point', value: 7, min: 1, max: 10 },
      confidence: 'medium',
    },
  }),
};

/** A valid event of `type`, with fresh ids, and the given fields replaced. */
export function buildEvent<T extends EventType>(type: T, overrides: EventOverrides<T> = {}): EventOfType<T> {
  const build = builders[type] as () => EventOfType<T>;
  return merge(build(), overrides);
}

export const buildHealthVisitorReviewCompleted = (
  o: EventOverrides<'health.health-visitor-review.completed'> = {},
) => buildEvent('health.health-visitor-review.completed', o);
export const buildImmunisationGiven = (o: EventOverrides<'health.immunisation.given'> = {}) =>
  buildEvent('health.immunisation.given', o);
export const buildEmergencyCareAttended = (o: EventOverrides<'health.emergency-care.attended'> = {}) =>
  buildEvent('health.emergency-care.attended', o);
export const buildSafeguardingConcernRaised = (
  o: EventOverrides<'health.safeguarding-concern.raised'> = {},
) => buildEvent('health.safeguarding-concern.raised', o);
export const buildEnrolmentRecorded = (o: EventOverrides<'education.enrolment.recorded'> = {}) =>
  buildEvent('education.enrolment.recorded', o);
export const buildAttendanceSummarised = (o: EventOverrides<'education.attendance.summarised'> = {}) =>
  buildEvent('education.attendance.summarised', o);
export const buildExclusionRecorded = (o: EventOverrides<'education.exclusion.recorded'> = {}) =>
  buildEvent('education.exclusion.recorded', o);
export const buildReferralReceived = (o: EventOverrides<'social-care.referral.received'> = {}) =>
  buildEvent('social-care.referral.received', o);
export const buildAssessmentCompleted = (o: EventOverrides<'social-care.assessment.completed'> = {}) =>
  buildEvent('social-care.assessment.completed', o);
export const buildChildProtectionPlanStarted = (
  o: EventOverrides<'social-care.child-protection-plan.started'> = {},
) => buildEvent('social-care.child-protection-plan.started', o);
export const buildOutcomeObservationRecorded = (o: EventOverrides<'outcome.observation.recorded'> = {}) =>
  buildEvent('outcome.observation.recorded', o);
