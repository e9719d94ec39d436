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

function hoursAgo(hours: number): string {
  return new Date(Date.now() - hours * 60 * 60 * 1000).toISOString();
}

const NEWBORN_BORN = () => daysAgo(12);
const YOUNG_CHILD_BORN = () => daysAgo(800);
const RECEPTION_CHILD_BORN = () => daysAgo(5 * 365 + 200);
const SCHOOL_CHILD_BORN = () => daysAgo(9 * 365);
const TEENAGER_BORN = () => daysAgo(14 * 365);

/** The latest 31 March not after today: the end of the last complete collection year. */
function lastYearEnding(now = new Date()): string {
  return `${now.getUTCMonth() >= 3 ? now.getUTCFullYear() : now.getUTCFullYear() - 1}-03-31`;
}

const LA_SOURCE = () => ({ agency: 'social-care' as const, system: 'demo-case-system', organisation: '926' });
const LA_SUBJECT = () => ({
  recordId: freshRecordId('case'),
  laChildId: `C${digits(6)}`,
  laCode: '926',
  dateOfBirth: SCHOOL_CHILD_BORN(),
});

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
  'health.birth.notified': () => {
    const born = daysAgo(2);
    return {
      ...envelope('health.birth.notified'),
      source: { agency: 'health', system: 'demo-maternity-system', organisation: 'RX1' },
      subject: { recordId: freshRecordId('chs'), nhsNumber: freshNhsNumber(), dateOfBirth: born, sex: 'F' },
      data: {
        birthDate: born,
        birthTime: '04:35',
        gestationWeeks: 39,
        birthWeightGrams: 3350,
        deliveryPlace: 'hospital-obstetric-unit',
        birthOrder: 1,
        motherNhsNumber: freshNhsNumber(),
      },
    };
  },
  'health.newborn-hearing-screening.completed': () => ({
    ...envelope('health.newborn-hearing-screening.completed'),
    source: { agency: 'health', system: 'demo-hearing-screening', organisation: 'RX1' },
    subject: { recordId: freshRecordId('chs'), nhsNumber: freshNhsNumber(), dateOfBirth: NEWBORN_BORN() },
    data: {
      screeningDate: daysAgo(8),
      method: 'AOAE',
      leftEar: 'CR',
      rightEar: 'CR',
      outcome: 'no-follow-up',
    },
  }),
  'health.newborn-blood-spot.screened': () => ({
    ...envelope('health.newborn-blood-spot.screened'),
    source: { agency: 'health', system: 'demo-screening-laboratory' },
    subject: { recordId: freshRecordId('chs'), nhsNumber: freshNhsNumber(), dateOfBirth: NEWBORN_BORN() },
    specialCategories: ['genetic'],
    data: {
      sampleDate: daysAgo(5),
      results: [
        { condition: 'SCD', result: 'not-suspected' },
        { condition: 'CF', result: 'not-suspected' },
        { condition: 'CHT', result: 'not-suspected' },
        { condition: 'PKU', result: 'not-suspected' },
      ],
    },
  }),
  'health.nipe.completed': () => ({
    ...envelope('health.nipe.completed'),
    source: { agency: 'health', system: 'demo-maternity-system', organisation: 'RX1' },
    subject: { recordId: freshRecordId('chs'), nhsNumber: freshNhsNumber(), dateOfBirth: NEWBORN_BORN() },
    data: {
      examination: 'newborn',
      examinationDate: daysAgo(9),
      eyes: 'no-abnormality',
      heart: 'no-abnormality',
      hips: 'no-abnormality',
      hipRiskFactor: false,
      examinerRole: 'midwife',
    },
  }),
  'health.hospital.admitted': () => ({
    ...envelope('health.hospital.admitted'),
    source: { agency: 'health', system: 'demo-pas', organisation: 'RX1' },
    subject: { recordId: freshRecordId('pas'), nhsNumber: freshNhsNumber(), dateOfBirth: YOUNG_CHILD_BORN() },
    data: {
      admittedAt: hoursAgo(30),
      spellId: 'SPELL-0001',
      admissionMethod: '21',
      specialty: 'paediatrics',
      reason: 'Bronchiolitis',
    },
  }),
  'health.hospital.discharged': () => ({
    ...envelope('health.hospital.discharged'),
    source: { agency: 'health', system: 'demo-pas', organisation: 'RX1' },
    subject: { recordId: freshRecordId('pas'), nhsNumber: freshNhsNumber(), dateOfBirth: YOUNG_CHILD_BORN() },
    data: {
      admittedAt: hoursAgo(30),
      dischargedAt: hoursAgo(2),
      spellId: 'SPELL-0001',
      dischargeMethod: '1',
      dischargeDestination: '19',
    },
  }),
  'health.camhs.referred': () => ({
    ...envelope('health.camhs.referred'),
    source: { agency: 'health', system: 'demo-mental-health-system', organisation: 'RX2' },
    subject: { recordId: freshRecordId('mh'), nhsNumber: freshNhsNumber(), dateOfBirth: TEENAGER_BORN() },
    specialCategories: ['mental-health'],
    data: {
      referralDate: daysAgo(3),
      referralId: 'REF-0001',
      referralSource: 'A1',
      primaryReason: '05',
      urgency: '3',
      narrative: 'Synthetic referral: low mood and worry about school for several months.',
    },
  }),
  'health.camhs.discharged': () => ({
    ...envelope('health.camhs.discharged'),
    source: { agency: 'health', system: 'demo-mental-health-system', organisation: 'RX2' },
    subject: { recordId: freshRecordId('mh'), nhsNumber: freshNhsNumber(), dateOfBirth: TEENAGER_BORN() },
    specialCategories: ['mental-health'],
    data: {
      referralDate: daysAgo(200),
      dischargeDate: daysAgo(1),
      referralId: 'REF-0001',
      reason: 'treatment-completed',
    },
  }),
  'health.observation.recorded': () => ({
    ...envelope('health.observation.recorded'),
    source: { agency: 'health', system: 'demo-gp-system', organisation: 'Y00001' },
    subject: { recordId: freshRecordId('gp'), nhsNumber: freshNhsNumber(), dateOfBirth: YOUNG_CHILD_BORN() },
    data: {
      code: { system: 'http://snomed.info/sct', code: '27113001', display: 'Body weight' },
      status: 'final',
      effectiveDate: daysAgo(1),
      value: {
        kind: 'quantity',
        value: 12.4,
        unit: 'kg',
        unitSystem: 'http://unitsofmeasure.org',
        unitCode: 'kg',
      },
    },
  }),
  'health.flag.recorded': () => ({
    ...envelope('health.flag.recorded'),
    source: { agency: 'health', system: 'demo-gp-system', organisation: 'Y00001' },
    subject: { recordId: freshRecordId('gp'), nhsNumber: freshNhsNumber(), dateOfBirth: YOUNG_CHILD_BORN() },
    data: {
      code: { system: 'https://example.org/demo/flags', code: 'cp-plan', display: 'Child protection plan' },
      text: 'Synthetic flag: subject to a child protection plan',
      status: 'active',
      periodStart: daysAgo(30),
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
  'education.leaving.recorded': () => ({
    ...envelope('education.leaving.recorded'),
    source: { agency: 'education', system: 'demo-school-mis', organisation: '100001' },
    subject: { recordId: freshRecordId('pupil'), upn: freshUpn(), dateOfBirth: SCHOOL_CHILD_BORN() },
    data: {
      schoolUrn: '100001',
      leavingDate: daysAgo(2),
      reason: 'transferred-school',
      destinationUrn: '100002',
      destinationUnknown: false,
    },
  }),
  'education.sen-provision.changed': () => ({
    ...envelope('education.sen-provision.changed'),
    source: { agency: 'education', system: 'demo-school-mis', organisation: '100001' },
    subject: { recordId: freshRecordId('pupil'), upn: freshUpn(), dateOfBirth: SCHOOL_CHILD_BORN() },
    data: {
      schoolUrn: '100001',
      effectiveDate: daysAgo(5),
      previousProvision: 'N',
      provision: 'K',
      needs: [{ need: 'SLCN', rank: 1 }],
    },
  }),
  'education.ehc-needs-assessment.requested': () => ({
    ...envelope('education.ehc-needs-assessment.requested'),
    source: { agency: 'education', system: 'demo-sen-system', organisation: '926' },
    subject: { recordId: freshRecordId('sen'), upn: freshUpn(), dateOfBirth: SCHOOL_CHILD_BORN() },
    data: { requestDate: daysAgo(4), requestSource: 'school-or-college', decisionDueDate: daysAgo(-38) },
  }),
  'education.ehc-plan.issued': () => ({
    ...envelope('education.ehc-plan.issued'),
    source: { agency: 'education', system: 'demo-sen-system', organisation: '926' },
    subject: { recordId: freshRecordId('sen'), upn: freshUpn(), dateOfBirth: SCHOOL_CHILD_BORN() },
    data: {
      requestDate: daysAgo(130),
      issueDate: daysAgo(2),
      needs: [
        { need: 'ASD', rank: 1 },
        { need: 'SLCN', rank: 2 },
      ],
      namedSchoolUrn: '100001',
      withinTwentyWeeks: true,
      reviewDate: daysAgo(-363),
    },
  }),
  'education.ehc-plan.ceased': () => ({
    ...envelope('education.ehc-plan.ceased'),
    source: { agency: 'education', system: 'demo-sen-system', organisation: '926' },
    subject: { recordId: freshRecordId('sen'), upn: freshUpn(), dateOfBirth: SCHOOL_CHILD_BORN() },
    data: { ceaseDate: daysAgo(1), reason: '2' },
  }),
  'education.eyfs-profile.assessed': () => ({
    ...envelope('education.eyfs-profile.assessed'),
    source: { agency: 'education', system: 'demo-school-mis', organisation: '100001' },
    subject: { recordId: freshRecordId('pupil'), upn: freshUpn(), dateOfBirth: RECEPTION_CHILD_BORN() },
    data: {
      schoolUrn: '100001',
      academicYear: '2024/25',
      assessmentDate: daysAgo(10),
      goals: {
        'listening-attention-understanding': 'expected',
        speaking: 'expected',
        'self-regulation': 'expected',
        'managing-self': 'expected',
        'building-relationships': 'expected',
        'gross-motor': 'expected',
        'fine-motor': 'expected',
        comprehension: 'expected',
        'word-reading': 'expected',
        writing: 'emerging',
        number: 'expected',
        'numerical-patterns': 'expected',
        'past-and-present': 'expected',
        'people-culture-communities': 'expected',
        'natural-world': 'expected',
        'creating-with-materials': 'expected',
        'being-imaginative': 'expected',
      },
    },
  }),
  'education.key-stage.assessed': () => ({
    ...envelope('education.key-stage.assessed'),
    source: { agency: 'education', system: 'demo-school-mis', organisation: '100001' },
    subject: { recordId: freshRecordId('pupil'), upn: freshUpn(), dateOfBirth: daysAgo(11 * 365) },
    data: {
      schoolUrn: '100001',
      academicYear: '2024/25',
      keyStage: 'KS2',
      ks2: { readingScaledScore: 104, mathsScaledScore: 99, gpsScaledScore: 101, writing: 'EXS' },
    },
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
  'social-care.contact.received': () => ({
    ...envelope('social-care.contact.received'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { contactDate: daysAgo(3), contactSource: '6', outcome: 'referral' },
  }),
  'social-care.section-47-enquiry.started': () => ({
    ...envelope('social-care.section-47-enquiry.started'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: {
      startDate: daysAgo(2),
      strategyDiscussionDate: daysAgo(3),
      icpcTargetDate: daysAgo(-12),
      rationale:
        'Synthetic rationale: strategy discussion agreed reasonable cause to suspect significant harm.',
    },
  }),
  'social-care.section-47-enquiry.completed': () => ({
    ...envelope('social-care.section-47-enquiry.completed'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: {
      startDate: daysAgo(12),
      completedDate: daysAgo(1),
      outcome: 'icpc',
      rationale: 'Synthetic rationale: concerns substantiated; conference to consider a plan.',
    },
  }),
  'social-care.initial-child-protection-conference.held': () => ({
    ...envelope('social-care.initial-child-protection-conference.held'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: {
      conferenceDate: daysAgo(1),
      section47StartDate: daysAgo(14),
      planRequired: true,
      category: 'NEG',
      rationale: 'Synthetic rationale: the conference agreed the child is at continuing risk of neglect.',
    },
  }),
  'social-care.child-protection-plan.reviewed': () => ({
    ...envelope('social-care.child-protection-plan.reviewed'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: {
      reviewDate: daysAgo(1),
      planStartDate: daysAgo(90),
      latestCategory: 'NEG',
      planContinues: true,
      nextReviewDate: daysAgo(-180),
      rationale: 'Synthetic rationale: progress with routines, but school attendance still low.',
    },
  }),
  'social-care.child-protection-plan.ended': () => ({
    ...envelope('social-care.child-protection-plan.ended'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: {
      startDate: daysAgo(270),
      endDate: daysAgo(1),
      initialCategory: 'NEG',
      latestCategory: 'NEG',
      reason: 'child-in-need-plan',
      rationale: 'Synthetic rationale: no longer at continuing risk; support continues under a CIN plan.',
    },
  }),
  'social-care.cin-plan.started': () => ({
    ...envelope('social-care.cin-plan.started'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { startDate: daysAgo(1), primaryNeed: 'N4', reviewDate: daysAgo(-90) },
  }),
  'social-care.cin-plan.ended': () => ({
    ...envelope('social-care.cin-plan.ended'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { startDate: daysAgo(200), endDate: daysAgo(1), reason: 'needs-met' },
  }),
  'social-care.looked-after-episode.started': () => ({
    ...envelope('social-care.looked-after-episode.started'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: {
      startDate: daysAgo(2),
      legalStatus: 'V2',
      placement: 'U6',
      placementProvider: 'PR1',
      needCategory: 'N1',
      unaccompaniedAsylumSeeking: false,
    },
  }),
  'social-care.looked-after-episode.changed': () => ({
    ...envelope('social-care.looked-after-episode.changed'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: {
      changeDate: daysAgo(1),
      reasonForNewEpisode: 'P',
      legalStatus: 'C2',
      placement: 'U4',
      placementProvider: 'PR1',
      reasonPlaceChange: 'CARPL',
    },
  }),
  'social-care.looked-after-episode.ended': () => ({
    ...envelope('social-care.looked-after-episode.ended'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { startDate: daysAgo(400), endDate: daysAgo(1), reasonEnded: 'E45' },
  }),
  'social-care.looked-after-review.held': () => ({
    ...envelope('social-care.looked-after-review.held'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { reviewDate: daysAgo(1), participation: 'PN1', nextReviewDate: daysAgo(-180) },
  }),
  'social-care.missing-episode.recorded': () => ({
    ...envelope('social-care.missing-episode.recorded'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: {
      kind: 'M',
      startDate: daysAgo(3),
      endDate: daysAgo(2),
      returnInterviewOffered: true,
      returnInterviewAccepted: true,
    },
  }),
  'social-care.early-help-episode.started': () => ({
    ...envelope('social-care.early-help-episode.started'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: {
      startDate: daysAgo(2),
      needs: ['education', 'relationships'],
      leadPractitioner: 'family support worker, school',
    },
  }),
  'social-care.early-help-episode.ended': () => ({
    ...envelope('social-care.early-help-episode.ended'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { startDate: daysAgo(160), endDate: daysAgo(1), reason: 'needs-met' },
  }),
  'social-care.case.closed': () => ({
    ...envelope('social-care.case.closed'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { referralDate: daysAgo(120), closureDate: daysAgo(1), reason: 'RC7' },
  }),
  'social-care.child-characteristics.recorded': () => ({
    ...envelope('social-care.child-characteristics.recorded'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    specialCategories: ['ethnicity'],
    data: { asAt: daysAgo(1), ethnicity: 'WBRI', disabilities: ['NONE'] },
  }),
  'social-care.upn-unknown.recorded': () => ({
    ...envelope('social-care.upn-unknown.recorded'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { asAt: daysAgo(1), reason: 'UN3' },
  }),
  'social-care.death.recorded': () => ({
    ...envelope('social-care.death.recorded'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { dateOfDeath: daysAgo(2) },
  }),
  'social-care.assessment.started': () => ({
    ...envelope('social-care.assessment.started'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { startDate: daysAgo(10) },
  }),
  'social-care.pre-proceedings.started': () => ({
    ...envelope('social-care.pre-proceedings.started'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: {
      startDate: daysAgo(60),
      letterBeforeProceedingsDate: daysAgo(55),
      familyGroupDecisionMeetingOffered: true,
      initialMeetingDate: daysAgo(45),
      reviewMeetingsCount: 1,
    },
  }),
  'social-care.pre-proceedings.ended': () => ({
    ...envelope('social-care.pre-proceedings.ended'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { startDate: daysAgo(60), decisionDate: daysAgo(5), outcome: 'A' },
  }),
  'social-care.uasc-status.recorded': () => ({
    ...envelope('social-care.uasc-status.recorded'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { yearEnding: lastYearEnding() },
  }),
  'social-care.uasc-status.ceased': () => ({
    ...envelope('social-care.uasc-status.ceased'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { ceasedDate: daysAgo(1) },
  }),
  'social-care.looked-after-outcomes.recorded': () => ({
    ...envelope('social-care.looked-after-outcomes.recorded'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    specialCategories: ['substance-misuse', 'criminal-offence'],
    data: {
      yearEnding: lastYearEnding(),
      sdqScore: 14,
      convicted: false,
      healthCheck: true,
      immunisations: true,
      teethCheck: true,
      healthAssessment: true,
      substanceMisuse: false,
    },
  }),
  'social-care.care-leaver.contacted': () => ({
    ...envelope('social-care.care-leaver.contacted'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { yearEnding: lastYearEnding(), inTouch: 'YES', activity: 'F2', accommodation: 'U1' },
  }),
  'social-care.adoption-match.recorded': () => ({
    ...envelope('social-care.adoption-match.recorded'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: {
      decisionDate: daysAgo(300),
      matchedDate: daysAgo(120),
      adoptedByFosterCarers: false,
      numberOfAdopters: 2,
      adopterSex: 'MF',
      adopterLegalStatus: 'L11',
    },
  }),
  'social-care.placement-for-adoption.decided': () => ({
    ...envelope('social-care.placement-for-adoption.decided'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { decisionDate: daysAgo(2) },
  }),
  'social-care.placement-for-adoption.reversed': () => ({
    ...envelope('social-care.placement-for-adoption.reversed'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { decisionDate: daysAgo(200), reversedDate: daysAgo(1), reason: 'RD3' },
  }),
  'social-care.previous-permanence.recorded': () => ({
    ...envelope('social-care.previous-permanence.recorded'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { yearEnding: lastYearEnding(), option: 'P2', arrangedBy: '926', orderDate: '2019-05' },
  }),
  'social-care.social-worker.allocated': () => ({
    ...envelope('social-care.social-worker.allocated'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { workerId: 'SW0042', startDate: daysAgo(30) },
  }),
  'social-care.social-worker.allocation-ended': () => ({
    ...envelope('social-care.social-worker.allocation-ended'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: { workerId: 'SW0042', startDate: daysAgo(30), endDate: daysAgo(1), reason: 'LEFTRL' },
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
  'practice.decision.recorded': () => ({
    ...envelope('practice.decision.recorded'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: {
      decidedOn: daysAgo(1),
      decision: 'Convene a strategy discussion today.',
      rationale: 'Synthetic rationale: a second unexplained bruise within a month, seen by school.',
      optionsConsidered: [
        { option: 'Single-agency assessment', whyNot: 'Two agencies hold concerns; police input needed.' },
      ],
      uncertainty: 'Synthetic: the explanation given by the parent has not been checked with the GP.',
      confidence: 'medium',
      decidedBy: { role: 'team manager', agency: 'social-care' },
      forum: 'MASH',
      reviewDate: daysAgo(-7),
      expectedOutcomes: [
        {
          framework: 'ecm',
          domain: 'stay-safe',
          lookFor: 'Synthetic: no new injuries; the school sees the child settled on Mondays.',
        },
      ],
      team: 'Assessment team 2',
    },
  }),
  'practice.voice-of-child.recorded': () => ({
    ...envelope('practice.voice-of-child.recorded'),
    source: { agency: 'education', system: 'demo-school-mis', organisation: '100001' },
    subject: { recordId: freshRecordId('pupil'), upn: freshUpn(), dateOfBirth: SCHOOL_CHILD_BORN() },
    data: {
      capturedOn: daysAgo(1),
      whatTheChildSaid: 'Synthetic: "I like it when Nan picks me up, she makes tea."',
      verbatim: true,
      capturedHow: 'own-words',
      capturedBy: { role: 'class teacher', agency: 'education' },
      context: 'school, in class with a trusted adult',
      childAgreedToShare: true,
    },
  }),
  'practice.decision.reviewed': () => ({
    ...envelope('practice.decision.reviewed'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: {
      decisionId: randomUUID(),
      reviewedOn: daysAgo(1),
      whatHappened: 'Synthetic: the strategy discussion was held; no further injuries have been seen.',
      againstExpected: [
        {
          framework: 'ecm',
          domain: 'stay-safe',
          finding: 'Synthetic: school reports the child settled on Mondays for six weeks.',
          judgement: 'as-expected',
        },
      ],
      outcome: 'continued',
      nextReviewDate: daysAgo(-42),
      reviewedBy: { role: 'team manager', agency: 'social-care', team: 'Assessment team 2' },
      forum: 'supervision',
      confidence: 'medium',
    },
  }),
  'practice.views.differ': () => ({
    ...envelope('practice.views.differ'),
    source: LA_SOURCE(),
    subject: LA_SUBJECT(),
    data: {
      recordedOn: daysAgo(1),
      about: [randomUUID(), randomUUID()],
      framework: 'ecm',
      domain: 'stay-safe',
      views: [
        {
          perspective: 'family',
          role: 'mother',
          view: 'Synthetic: things are calmer at home since the move.',
        },
        {
          perspective: 'professional',
          role: 'class teacher',
          agency: 'education',
          view: 'Synthetic: the child arrives hungry and tired most Mondays.',
        },
      ],
      narrative: 'Synthetic: to be discussed with the mother and the school at the next core group.',
      recordedBy: { role: 'social worker', agency: 'social-care', team: 'Assessment team 2' },
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
