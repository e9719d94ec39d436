import type { AgencyEvent, EventOfType, RecordedBy } from '@throughline/contracts';
import { Random } from './random';

/**
 * Who recorded a fact, and what they would add in their own words: the envelope's `recordedBy`
 * where a practitioner recorded the event (not where a system did: immunisations, screening,
 * births, attendance registers), and a narrative beside some indicators that had none (the
 * attendance officer's comment on a poor term, the teacher's on key stage results, the health
 * visitor's notes on an ASQ-3). Each draw comes from a stream keyed by the event's id, so
 * annotating never shifts any other draw of the cohort.
 */

const SOCIAL_WORKER = (team: string): RecordedBy => ({ role: 'social worker', agency: 'social-care', team });

const RECORDED_BY: Partial<Record<AgencyEvent['type'], (event: AgencyEvent) => RecordedBy | undefined>> = {
  'health.health-visitor-review.completed': () => ({
    role: 'health visitor',
    agency: 'health',
    team: '0-19 team',
  }),
  'health.safeguarding-concern.raised': (event) => ({
    role: (event as EventOfType<'health.safeguarding-concern.raised'>).data.raisedBy,
    agency: 'health',
  }),
  'health.camhs.referred': () => ({ role: 'CAMHS clinician', agency: 'health', team: 'CAMHS' }),
  'health.camhs.discharged': () => ({ role: 'CAMHS clinician', agency: 'health', team: 'CAMHS' }),
  'education.exclusion.recorded': () => ({ role: 'headteacher', agency: 'education' }),
  'education.sen-provision.changed': () => ({ role: 'SENCO', agency: 'education' }),
  'education.ehc-needs-assessment.requested': () => ({
    role: 'SEN case officer',
    agency: 'education',
    team: 'SEN team',
  }),
  'education.ehc-plan.issued': () => ({ role: 'SEN case officer', agency: 'education', team: 'SEN team' }),
  'education.ehc-plan.ceased': () => ({ role: 'SEN case officer', agency: 'education', team: 'SEN team' }),
  'education.eyfs-profile.assessed': () => ({ role: 'reception class teacher', agency: 'education' }),
  'education.key-stage.assessed': (event) => ({
    role:
      (event as EventOfType<'education.key-stage.assessed'>).data.keyStage === 'KS2'
        ? 'year 6 class teacher'
        : 'head of year',
    agency: 'education',
  }),
  'social-care.contact.received': () => ({
    role: 'front door social worker',
    agency: 'social-care',
    team: 'Front door',
  }),
  'social-care.referral.received': () => SOCIAL_WORKER('Front door'),
  'social-care.assessment.completed': () => SOCIAL_WORKER('Assessment team 2'),
  'social-care.section-47-enquiry.started': () => SOCIAL_WORKER('Assessment team 2'),
  'social-care.section-47-enquiry.completed': () => SOCIAL_WORKER('Assessment team 2'),
  'social-care.initial-child-protection-conference.held': () => ({
    role: 'independent conference chair',
    agency: 'social-care',
    team: 'Safeguarding and quality',
  }),
  'social-care.child-protection-plan.started': () => SOCIAL_WORKER('Child protection team'),
  'social-care.child-protection-plan.reviewed': () => ({
    role: 'independent conference chair',
    agency: 'social-care',
    team: 'Safeguarding and quality',
  }),
  'social-care.child-protection-plan.ended': () => SOCIAL_WORKER('Child protection team'),
  'social-care.cin-plan.started': () => SOCIAL_WORKER('Children in need team 1'),
  'social-care.cin-plan.ended': () => SOCIAL_WORKER('Children in need team 1'),
  'social-care.looked-after-episode.started': () => SOCIAL_WORKER('Children in care team'),
  'social-care.looked-after-episode.changed': () => SOCIAL_WORKER('Children in care team'),
  'social-care.looked-after-episode.ended': () => SOCIAL_WORKER('Children in care team'),
  'social-care.looked-after-review.held': () => ({
    role: 'independent reviewing officer',
    agency: 'social-care',
    team: 'Safeguarding and quality',
  }),
  'social-care.missing-episode.recorded': () => SOCIAL_WORKER('Children in need team 1'),
  'social-care.early-help-episode.started': () => ({
    role: 'family support worker',
    agency: 'early-help',
    team: 'Early help hub',
  }),
  'social-care.early-help-episode.ended': () => ({
    role: 'family support worker',
    agency: 'early-help',
    team: 'Early help hub',
  }),
  'social-care.case.closed': () => SOCIAL_WORKER('Children in need team 1'),
  'practice.decision.recorded': (event) => {
    const data = (event as EventOfType<'practice.decision.recorded'>).data;
    return { ...data.decidedBy, ...(data.team ? { team: data.team } : {}) };
  },
  'practice.voice-of-child.recorded': (event) => ({
    ...(event as EventOfType<'practice.voice-of-child.recorded'>).data.capturedBy,
  }),
};

const ATTENDANCE_OFFICER: RecordedBy = {
  role: 'attendance officer',
  agency: 'education',
  team: 'Attendance team',
};

function attendanceComment(
  data: EventOfType<'education.attendance.summarised'>['data'],
  rng: Random,
): string | undefined {
  if (!('authorisedAbsence' in data)) return undefined;
  const absent = data.authorisedAbsence + data.unauthorisedAbsence;
  const rate = absent / Math.max(1, data.sessionsPossible);
  if (rate < 0.1 || !rng.chance(0.75)) return undefined;
  const percent = Math.round(100 * (1 - rate));
  if (data.unauthorisedAbsence > data.authorisedAbsence)
    return rng.pick([
      `Attendance ${percent}% this term, mostly unauthorised. Home visit made; parent says mornings are a struggle. Attendance support plan agreed.`,
      `Attendance ${percent}%; several Mondays and Fridays missed without reason. Letter sent and a meeting booked with the parent and the pastoral lead.`,
    ]);
  return rng.pick([
    `Attendance ${percent}%: absences are mostly illness and medical appointments, all reported. No concern about the reasons; we keep an eye on the pattern.`,
    `Attendance ${percent}% this term, largely authorised (hospital appointments). Work sent home; the class teacher is in touch with the family.`,
  ]);
}

function keyStageComment(
  data: EventOfType<'education.key-stage.assessed'>['data'],
  rng: Random,
): string | undefined {
  if (!rng.chance(0.7)) return undefined;
  if (data.keyStage === 'KS2' && data.ks2) {
    const { readingScaledScore: reading, mathsScaledScore: maths, writing } = data.ks2;
    if (reading === undefined || maths === undefined)
      return 'Working below the standard of the tests; assessed against the pre-key stage standards. Progress against their own targets has been good this year.';
    const met = [reading >= 100 && 'reading', maths >= 100 && 'maths'].filter(Boolean);
    return met.length === 2
      ? `Met the expected standard in reading and maths; writing ${writing}. Ready for secondary school, and proud of it.`
      : met.length === 1
        ? `Met the expected standard in ${met[0]} but not in ${met[0] === 'reading' ? 'maths' : 'reading'}; writing ${writing}. Transition plan shares what helps with the secondary school.`
        : `Below the expected standard in reading and maths after a disrupted year; writing ${writing}. Catch-up support requested from the secondary school.`;
  }
  if (data.keyStage === 'KS4' && data.ks4)
    return (data.ks4.attainment8 ?? 0) >= 40
      ? `Good results after a hard two years; a college place in September is confirmed.`
      : `Results below what we hoped for; missed much of year 11. The careers adviser is helping with a college or apprenticeship place.`;
  return undefined;
}

function eyfsComment(
  data: EventOfType<'education.eyfs-profile.assessed'>['data'],
  rng: Random,
): string | undefined {
  if (!rng.chance(0.5)) return undefined;
  const emerging = Object.values(data.goals).filter((goal) => goal === 'emerging').length;
  return emerging === 0
    ? 'A confident, curious learner; loves the outdoor area and stories.'
    : `Still emerging in ${emerging} of the early learning goals, mostly communication and writing; transition meeting with the year 1 teacher booked.`;
}

function hvNotes(
  data: EventOfType<'health.health-visitor-review.completed'>['data'],
  rng: Random,
): string | undefined {
  if (data.notes) return undefined;
  if (data.asq3) {
    const low = Object.entries(data.asq3)
      .filter(([, score]) => score <= 30)
      .map(([domain]) => domain.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`));
    return low.length
      ? `ASQ-3 completed with the parent at home: below the cut-off in ${low.join(', ')}. Talked through play at home; review in three months and nursery told with consent.`
      : 'ASQ-3 completed with the parent at home: on track in every area. Parent confident; talked about nursery places.';
  }
  return rng.chance(0.4)
    ? rng.pick([
        'Seen at home with the parent; feeding and sleep going well. Parent knows how to reach the team.',
        'Clinic contact; growth on track. Parent asked about sleep routines: advice given and leaflet shared.',
      ])
    : undefined;
}

type DomainRef = NonNullable<AgencyEvent['outcomeDomains']>[number];

/**
 * The outcome domains a practitioner may say a fact is evidence about, overriding the
 * framework's mapping of its type (decision 015): a missing episode is about staying safe, an
 * exclusion also about taking part, what the child said about being heard.
 */
const DECLARED_DOMAINS: Partial<Record<AgencyEvent['type'], readonly DomainRef[]>> = {
  'social-care.missing-episode.recorded': [
    { framework: 'ecm', domain: 'stay-safe' },
    { framework: 'signs-of-safety', domain: 'worries' },
    { framework: 'journey-of-change', domain: 'keeping-children-safe' },
  ],
  'education.exclusion.recorded': [
    { framework: 'ecm', domain: 'enjoy-and-achieve' },
    { framework: 'ecm', domain: 'make-a-positive-contribution' },
  ],
  'health.camhs.referred': [
    { framework: 'ecm', domain: 'be-healthy' },
    { framework: 'journey-of-change', domain: 'wellbeing' },
  ],
  'practice.voice-of-child.recorded': [
    { framework: 'ecm', domain: 'make-a-positive-contribution' },
    { framework: 'throughline-vale', domain: 'heard-and-involved' },
  ],
};

/** The event with `recordedBy` and any narrative (and, for some facts, declared outcome domains) added. */
export function annotate(event: AgencyEvent, seed: number): AgencyEvent {
  const annotated = annotateRecording(event, seed);
  const declared = DECLARED_DOMAINS[event.type];
  // Half the practitioners say which domains the fact is evidence about.
  if (!declared || !new Random(seed, 'declare', event.eventId).chance(0.5)) return annotated;
  return { ...annotated, outcomeDomains: declared.map((ref) => ({ ...ref })) } as AgencyEvent;
}

function annotateRecording(event: AgencyEvent, seed: number): AgencyEvent {
  const rng = () => new Random(seed, 'annotate', event.eventId);
  switch (event.type) {
    case 'education.attendance.summarised': {
      const narrative = attendanceComment(event.data, rng());
      return narrative
        ? ({ ...event, recordedBy: ATTENDANCE_OFFICER, data: { ...event.data, narrative } } as AgencyEvent)
        : event;
    }
    case 'education.key-stage.assessed': {
      const narrative = keyStageComment(event.data, rng());
      return {
        ...event,
        recordedBy: RECORDED_BY[event.type]!(event),
        ...(narrative ? { data: { ...event.data, narrative } } : {}),
      };
    }
    case 'education.eyfs-profile.assessed': {
      const narrative = eyfsComment(event.data, rng());
      return {
        ...event,
        recordedBy: RECORDED_BY[event.type]!(event),
        ...(narrative ? { data: { ...event.data, narrative } } : {}),
      };
    }
    case 'health.health-visitor-review.completed': {
      const notes = hvNotes(event.data, rng());
      return {
        ...event,
        recordedBy: RECORDED_BY[event.type]!(event),
        ...(notes ? { data: { ...event.data, notes } } : {}),
      };
    }
    default: {
      if (event.recordedBy) return event;
      const recordedBy = RECORDED_BY[event.type]?.(event);
      return recordedBy ? ({ ...event, recordedBy } as AgencyEvent) : event;
    }
  }
}
