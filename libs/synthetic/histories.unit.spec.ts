import {
  EVENT_TYPES,
  parseAgencyEvent,
  streamIdOf,
  type AgencyEvent,
  type EventOfType,
  type EventType,
} from '@throughline/contracts';
import {
  DEMO_COHORT_OPTIONS,
  generateCohort,
  type SyntheticChild,
  type SyntheticCohort,
} from '@throughline/synthetic';

// Generating whole cohorts takes seconds; a shared 2-core machine can make it many more.
jest.setTimeout(60_000);

const options = { seed: 42, startYear: 2011, endYear: 2026, now: '2026-11-01T00:00:00.000Z' } as const;
const day = (isoDateOrTime: string) => isoDateOrTime.slice(0, 10);
const addDays = (isoDate: string, days: number) =>
  new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** The events of each agency record (stream), in the cohort's order. */
function byStream(cohort: SyntheticCohort): Map<string, AgencyEvent[]> {
  const streams = new Map<string, AgencyEvent[]>();
  for (const event of cohort.events) {
    const id = streamIdOf(event);
    streams.set(id, [...(streams.get(id) ?? []), event]);
  }
  return streams;
}

function ofType<T extends EventType>(events: readonly AgencyEvent[] | undefined, type: T): EventOfType<T>[] {
  return (events ?? []).filter((event): event is EventOfType<T> => event.type === type);
}

/** Reception starts in the September after the fourth birthday's academic year (September to August). */
function receptionYearOf(child: SyntheticChild): number {
  const [year, month] = child.dateOfBirth.split('-').map(Number);
  return (month >= 9 ? year : year - 1) + 5;
}

const label = (startYear: number) => `${startYear}/${String((startYear + 1) % 100).padStart(2, '0')}`;

describe('generated histories hold together', () => {
  let cohort: SyntheticCohort;
  let streams: Map<string, AgencyEvent[]>;
  const stream = (agency: string, recordId: string | undefined) =>
    recordId ? (streams.get(`${agency}-${recordId}`) ?? []) : [];
  beforeAll(() => {
    cohort = generateCohort(options);
    streams = byStream(cohort);
  });

  it('covers every type of the contracts in the seeded cohort and in the demo cohort', () => {
    const demo = generateCohort(DEMO_COHORT_OPTIONS);
    // Born from 2011, no child is yet a care leaver (OC3) or 18 (UASC status ceasing): those
    // come from the same generator over older births.
    const older = generateCohort({ ...DEMO_COHORT_OPTIONS, startYear: 2003 });
    for (const events of [cohort.events, demo.events]) {
      const covered = new Set<string>([...events, ...older.events].map((event) => event.type));
      expect(EVENT_TYPES.filter((type) => !covered.has(type))).toEqual([]);
    }
    const invalid = demo.events
      .map((event) => ({
        event,
        result: parseAgencyEvent(event, { now: new Date(DEMO_COHORT_OPTIONS.now) }),
      }))
      .filter(({ result }) => !result.ok)
      .map(({ event, result }) => ({ type: event.type, issues: !result.ok && result.issues }));
    expect(invalid.slice(0, 3)).toEqual([]);
    expect(demo.events.length).toBeLessThan(20_000);
  });

  it('notifies every birth as recorded, screens every newborn in the first weeks', () => {
    for (const child of cohort.children) {
      const health = stream('health', child.records.health.recordId);
      const [birth, ...more] = ofType(health, 'health.birth.notified');
      expect(more).toEqual([]);
      expect(birth.data.birthDate).toBe(child.dateOfBirth);
      expect(birth.subject.dateOfBirth).toBe(child.dateOfBirth);
      // Within 36 hours of the birth, and before any other record but a neonatal admission.
      const bornAt = Date.parse(`${child.dateOfBirth}T${birth.data.birthTime}:00Z`);
      expect(Date.parse(birth.occurredAt) - bornAt).toBeLessThanOrEqual(36 * 3_600_000);
      const earlier = health.filter((event) => event.occurredAt < birth.occurredAt);
      expect(earlier.every((event) => event.type === 'health.hospital.admitted')).toBe(true);

      const [newbornNipe] = ofType(health, 'health.nipe.completed').filter(
        (e) => e.data.examination === 'newborn',
      );
      expect(day(newbornNipe.data.examinationDate) <= addDays(child.dateOfBirth, 3)).toBe(true);
      expect(newbornNipe.data.testes !== undefined).toBe(child.sex === 'male');
      const [hearing] = ofType(health, 'health.newborn-hearing-screening.completed');
      expect(hearing.data.screeningDate <= addDays(child.dateOfBirth, 28)).toBe(true);
      const [bloodSpot] = ofType(health, 'health.newborn-blood-spot.screened');
      expect(bloodSpot.data.sampleDate >= addDays(child.dateOfBirth, 5)).toBe(true);
      expect(bloodSpot.data.sampleDate <= addDays(child.dateOfBirth, 8)).toBe(true);
      expect(bloodSpot.specialCategories).toContain('genetic');
    }
  });

  it('gives twins one birth: same date, gestation and place, born first and second', () => {
    const [first, second] = cohort.planted.twins!.healthStreamIds.map(
      (id) => ofType(streams.get(id), 'health.birth.notified')[0],
    );
    expect([first.data.birthOrder, second.data.birthOrder]).toEqual([1, 2]);
    expect(second.data.gestationWeeks).toBe(first.data.gestationWeeks);
    expect(second.data.deliveryPlace).toBe(first.data.deliveryPlace);
    expect(second.data.birthTime! > first.data.birthTime!).toBe(true);
  });

  it('discharges from hospital after the admission of the same spell; CAMHS discharges after the referral', () => {
    let spells = 0;
    let camhs = 0;
    for (const events of streams.values()) {
      const admissions = ofType(events, 'health.hospital.admitted');
      for (const discharge of ofType(events, 'health.hospital.discharged')) {
        const admission = admissions.find((a) => a.data.spellId === discharge.data.spellId);
        expect(admission).toBeDefined();
        expect(admission!.occurredAt < discharge.occurredAt).toBe(true);
        expect(discharge.data.admittedAt).toBe(admission!.data.admittedAt);
        expect(Date.parse(discharge.data.dischargedAt)).toBeGreaterThan(
          Date.parse(discharge.data.admittedAt),
        );
        spells += 1;
      }
      const referrals = ofType(events, 'health.camhs.referred');
      for (const discharge of ofType(events, 'health.camhs.discharged')) {
        const referral = referrals.find((r) => r.data.referralId === discharge.data.referralId);
        expect(referral?.data.referralDate).toBe(discharge.data.referralDate);
        expect(discharge.data.dischargeDate >= referral!.data.referralDate).toBe(true);
        camhs += 1;
      }
      for (const event of [...referrals, ...ofType(events, 'health.camhs.discharged')])
        expect(event.specialCategories).toContain('mental-health');
    }
    expect(spells).toBeGreaterThan(20);
    expect(camhs).toBeGreaterThan(3);
    // A minority of children, not the norm.
    const referred = new Set(
      cohort.events.filter((e) => e.type === 'health.camhs.referred').map((e) => e.subject.recordId),
    );
    expect(referred.size / cohort.children.length).toBeLessThan(0.2);
  });

  it('records a leaving before the next enrolment, naming the next school', () => {
    let moves = 0;
    for (const child of cohort.children) {
      const schools = child.records.education;
      schools.forEach((school, index) => {
        const events = stream('education', school.recordId);
        const [enrolment] = ofType(events, 'education.enrolment.recorded');
        expect(enrolment.data.entryDate).toBe(school.entryDate);
        const leavings = ofType(events, 'education.leaving.recorded');
        expect(leavings.length).toBeLessThanOrEqual(1);
        const next = schools[index + 1];
        if (!next) return;
        const [leaving] = leavings;
        expect(leaving).toBeDefined();
        expect(leaving.data.leavingDate < next.entryDate).toBe(true);
        if (leaving.data.destinationUnknown) expect(leaving.data.destinationUrn).toBeUndefined();
        else expect(leaving.data.destinationUrn).toBe(next.schoolUrn);
        // Nothing but results (published after the pupil left) comes from a school after the leaving.
        const after = events.filter((e) => day(e.occurredAt) > leaving.data.leavingDate);
        expect(after.every((e) => e.type === 'education.key-stage.assessed')).toBe(true);
        moves += 1;
      });
    }
    expect(moves).toBeGreaterThan(50);
  });

  it('keeps the SEN provision a chain: each change starts from what the school last recorded', () => {
    let changes = 0;
    for (const child of cohort.children) {
      for (const school of child.records.education) {
        const events = stream('education', school.recordId);
        let provision = ofType(events, 'education.enrolment.recorded')[0].data.senProvision;
        for (const change of ofType(events, 'education.sen-provision.changed')) {
          expect(change.data.previousProvision).toBe(provision);
          provision = change.data.provision;
          changes += 1;
        }
      }
    }
    expect(changes).toBeGreaterThan(10);
  });

  it('issues an EHC plan after its request, ceases it after the issue, and the school then records E', () => {
    let plans = 0;
    for (const child of cohort.children) {
      const events = stream('education', child.records.senService?.recordId);
      const [request] = ofType(events, 'education.ehc-needs-assessment.requested');
      const [plan] = ofType(events, 'education.ehc-plan.issued');
      const [ceased] = ofType(events, 'education.ehc-plan.ceased');
      if (child.records.senService) expect(request).toBeDefined();
      if (!plan) continue;
      plans += 1;
      expect(plan.data.requestDate).toBe(request.data.requestDate);
      expect(plan.data.issueDate > request.data.requestDate).toBe(true);
      if (ceased) expect(ceased.data.ceaseDate > plan.data.issueDate).toBe(true);
      // The school on roll after the plan records it (at entry or as a change), until any cessation.
      const schoolEvents = child.records.education.flatMap((school) => stream('education', school.recordId));
      const provisions = [
        ...ofType(schoolEvents, 'education.enrolment.recorded').map((e) => [
          e.data.entryDate,
          e.data.senProvision,
        ]),
        ...ofType(schoolEvents, 'education.sen-provision.changed').map((e) => [
          e.data.effectiveDate,
          e.data.provision,
        ]),
      ].filter(([date]) => date >= plan.data.issueDate && (!ceased || date < ceased.data.ceaseDate));
      for (const [, provision] of provisions) expect(provision).toBe('E');
    }
    expect(plans).toBeGreaterThanOrEqual(2);
  });

  it('assesses the EYFS profile at the end of reception and key stage 2 at the end of year 6', () => {
    let eyfs = 0;
    let ks2 = 0;
    for (const child of cohort.children) {
      const reception = receptionYearOf(child);
      const events = child.records.education.flatMap((school) => stream('education', school.recordId));
      for (const profile of ofType(events, 'education.eyfs-profile.assessed')) {
        expect(profile.data.academicYear).toBe(label(reception));
        expect(profile.data.assessmentDate.slice(0, 7)).toBe(`${reception + 1}-06`);
        eyfs += 1;
      }
      for (const result of ofType(events, 'education.key-stage.assessed')) {
        expect(result.data.keyStage).toBe('KS2');
        expect(result.data.academicYear).toBe(label(reception + 6));
        expect(day(result.occurredAt).slice(0, 7)).toBe(`${reception + 7}-07`);
        ks2 += 1;
      }
    }
    expect(eyfs).toBeGreaterThan(20);
    expect(ks2).toBeGreaterThan(20);
  });

  it('reports key stage 4 after year 11, only for children old enough, from the school they finished at', () => {
    const older = generateCohort({ ...options, children: 60, startYear: 2006 });
    const invalid = older.events.filter(
      (event) => !parseAgencyEvent(event, { now: new Date(options.now) }).ok,
    );
    expect(invalid.slice(0, 3)).toEqual([]);
    const olderStreams = byStream(older);
    let ks4 = 0;
    for (const child of older.children) {
      for (const school of child.records.education) {
        const events = olderStreams.get(`education-${school.recordId}`) ?? [];
        for (const result of ofType(events, 'education.key-stage.assessed').filter(
          (e) => e.data.keyStage === 'KS4',
        )) {
          expect(result.data.academicYear).toBe(label(receptionYearOf(child) + 11));
          const [leaving] = ofType(events, 'education.leaving.recorded');
          expect(leaving.data.reason).toBe('end-of-education');
          expect(leaving.data.leavingDate < day(result.occurredAt)).toBe(true);
          ks4 += 1;
        }
      }
    }
    expect(ks4).toBeGreaterThan(5);
    // Born 2011 or later, nobody in the seeded cohort has reached the end of year 11 by November 2026.
    expect(
      cohort.events.some((e) => e.type === 'education.key-stage.assessed' && e.data.keyStage === 'KS4'),
    ).toBe(false);
  });

  it('orders each social-care episode: contact, referral, assessment, enquiry, conference, plans, care, closure', () => {
    let closed = 0;
    for (const child of cohort.children) {
      const events = stream('social-care', child.records.socialCare?.recordId);
      const contacts = ofType(events, 'social-care.contact.received');
      for (const referral of ofType(events, 'social-care.referral.received')) {
        // The referral follows its contact within days, and everything correlated follows the referral.
        const contact = events.find((e) => e.eventId === referral.causationId);
        expect(contacts).toContain(contact);
        expect(
          referral.data.referralDate >=
            (contact as EventOfType<'social-care.contact.received'>).data.contactDate,
        ).toBe(true);
        const episode = events.filter((e) => e.correlationId === referral.eventId);
        for (const event of episode) expect(day(event.occurredAt) >= referral.data.referralDate).toBe(true);

        const [s47Start] = ofType(episode, 'social-care.section-47-enquiry.started');
        const [s47End] = ofType(episode, 'social-care.section-47-enquiry.completed');
        if (s47End) expect(s47End.data.completedDate! >= s47Start.data.startDate).toBe(true);
        const [conference] = ofType(episode, 'social-care.initial-child-protection-conference.held');
        if (conference) expect(conference.data.conferenceDate >= s47End.data.completedDate!).toBe(true);
        const [planStart] = ofType(episode, 'social-care.child-protection-plan.started');
        if (planStart) {
          expect(conference.data.planRequired).toBe(true);
          expect(planStart.data.startDate).toBe(conference.data.conferenceDate);
          expect(planStart.data.initialCategory).toBe(conference.data.category);
        }
        const [planEnd] = ofType(episode, 'social-care.child-protection-plan.ended');
        for (const review of ofType(episode, 'social-care.child-protection-plan.reviewed')) {
          expect(review.data.planStartDate).toBe(planStart.data.startDate);
          if (planEnd) expect(review.data.reviewDate <= planEnd.data.endDate).toBe(true);
        }
        if (planEnd) {
          expect(planEnd.data.startDate).toBe(planStart.data.startDate);
          expect(planEnd.data.endDate > planEnd.data.startDate).toBe(true);
        }
        const cinStarts = ofType(episode, 'social-care.cin-plan.started');
        for (const end of ofType(episode, 'social-care.cin-plan.ended')) {
          expect(cinStarts.map((start) => start.data.startDate)).toContain(end.data.startDate);
          expect(end.data.endDate > end.data.startDate).toBe(true);
        }
        const [careStart] = ofType(episode, 'social-care.looked-after-episode.started');
        const [careEnd] = ofType(episode, 'social-care.looked-after-episode.ended');
        if (careStart) {
          const inCare = [
            ...ofType(episode, 'social-care.looked-after-episode.changed').map((e) => e.data.changeDate),
            ...ofType(episode, 'social-care.looked-after-review.held').map((e) => e.data.reviewDate),
          ];
          for (const date of inCare) {
            expect(date > careStart.data.startDate).toBe(true);
            if (careEnd) expect(date < careEnd.data.endDate).toBe(true);
          }
          if (planEnd?.data.reason === 'looked-after')
            expect(careStart.data.startDate).toBe(planEnd.data.endDate);
        }
        if (careEnd) expect(careEnd.data.startDate).toBe(careStart.data.startDate);
        const [closure] = ofType(episode, 'social-care.case.closed');
        if (closure) {
          closed += 1;
          expect(closure.data.referralDate).toBe(referral.data.referralDate);
          // Nothing of the episode happens after it closed.
          for (const event of episode) expect(day(event.occurredAt) <= closure.data.closureDate).toBe(true);
          if (planStart && !planEnd)
            throw new Error(`${child.number}: case closed with a protection plan open`);
          if (careStart && !careEnd) throw new Error(`${child.number}: case closed with the child in care`);
        }
      }
      for (const end of ofType(events, 'social-care.early-help-episode.ended')) {
        const start = events.find(
          (e) => e.eventId === end.correlationId,
        ) as EventOfType<'social-care.early-help-episode.started'>;
        expect(start.data.startDate).toBe(end.data.startDate);
        expect(end.data.endDate > end.data.startDate).toBe(true);
      }
    }
    expect(closed).toBeGreaterThan(10);
  });

  it('fits the closure reason to the path: adoption-free, SGO after care, no further action without plans', () => {
    for (const events of streams.values()) {
      for (const closure of ofType(events, 'social-care.case.closed')) {
        const episode = events.filter((e) => e.correlationId === closure.correlationId);
        const types = new Set(episode.map((e) => e.type));
        const [careEnd] = ofType(episode, 'social-care.looked-after-episode.ended');
        switch (closure.data.reason) {
          case 'RC8':
          case 'RC9':
            expect(types.has('social-care.child-protection-plan.started')).toBe(false);
            expect(types.has('social-care.cin-plan.started')).toBe(false);
            expect(types.has('social-care.looked-after-episode.started')).toBe(false);
            break;
          case 'RC4':
            expect(careEnd.data.reasonEnded).toMatch(/^E4[5-8]$/);
            break;
          case 'RC3':
            expect(careEnd.data.reasonEnded).toBe('E41');
            break;
          default:
            expect(closure.data.reason).toBe('RC7');
        }
      }
    }
  });

  it('keeps missing episodes short and return interviews honest', () => {
    const missing = cohort.events.filter(
      (e): e is EventOfType<'social-care.missing-episode.recorded'> =>
        e.type === 'social-care.missing-episode.recorded',
    );
    expect(missing.length).toBeGreaterThan(0);
    for (const episode of missing) {
      expect(episode.data.endDate! >= episode.data.startDate).toBe(true);
      expect(episode.data.endDate! <= addDays(episode.data.startDate, 3)).toBe(true);
      if (episode.data.returnInterviewAccepted) expect(episode.data.returnInterviewOffered).toBe(true);
    }
  });

  it('records decisions with a review date after them, and the voice only of children old enough to give it', () => {
    const decisions = ofType(cohort.events, 'practice.decision.recorded');
    const voices = ofType(cohort.events, 'practice.voice-of-child.recorded');
    expect(decisions.length).toBeGreaterThan(10);
    expect(voices.length).toBeGreaterThan(10);
    for (const decision of decisions) {
      expect(decision.data.reviewDate > decision.data.decidedOn).toBe(true);
      expect(decision.data.optionsConsidered.length).toBeGreaterThan(0);
    }
    for (const voice of voices) {
      expect(voice.data.capturedOn >= addDays(voice.subject.dateOfBirth!, 2 * 365)).toBe(true);
      expect(voice.data.verbatim).toBe(voice.data.capturedHow === 'own-words');
    }
    // Decisions come from social care, the SEN service, schools and health; voices from social care and schools.
    expect(new Set(decisions.map((d) => d.source.agency))).toEqual(
      new Set(['social-care', 'education', 'health']),
    );
    expect(new Set(voices.map((d) => d.source.agency)).has('social-care')).toBe(true);
  });

  it('flags CP-IS in the emergency department only while a protection plan or care is open', () => {
    const flagged = ofType(cohort.events, 'health.emergency-care.attended').filter(
      (e) => e.data.cpisFlagSeen,
    );
    expect(flagged.length).toBeGreaterThan(0);
    for (const attendance of flagged) {
      const child = cohort.children.find((c) => c.records.health.recordId === attendance.subject.recordId)!;
      const events = stream('social-care', child.records.socialCare?.recordId);
      const arrived = day(attendance.data.arrivedAt);
      const open = (starts: string[], ends: string[]) =>
        starts.some((start) => start <= arrived && !ends.some((end) => end > start && end <= arrived));
      const onPlan = open(
        ofType(events, 'social-care.child-protection-plan.started').map((e) => e.data.startDate),
        ofType(events, 'social-care.child-protection-plan.ended').map((e) => e.data.endDate),
      );
      const inCare = open(
        ofType(events, 'social-care.looked-after-episode.started').map((e) => e.data.startDate),
        ofType(events, 'social-care.looked-after-episode.ended').map((e) => e.data.endDate),
      );
      expect(onPlan || inCare).toBe(true);
    }
  });
});
