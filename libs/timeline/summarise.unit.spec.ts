import { EVENT_TYPES, parseAgencyEvent, upcast, type AgencyEvent } from '@throughline/contracts';
import {
  buildAssessmentCompleted,
  buildAttendanceSummarised,
  buildChildProtectionPlanStarted,
  buildEmergencyCareAttended,
  buildEnrolmentRecorded,
  buildEvent,
  buildExclusionRecorded,
  buildHealthVisitorReviewCompleted,
  buildImmunisationGiven,
  buildOutcomeObservationRecorded,
  buildReferralReceived,
  buildSafeguardingConcernRaised,
} from '@throughline/testing';
import { attendancePercent, summarise } from './summarise';

describe('summarise', () => {
  it('names the referral source and primary need by their labels', () => {
    const event = buildReferralReceived({
      data: { referralSource: '2A', primaryNeed: 'N1', noFurtherAction: false },
    });
    expect(summarise(event)).toBe('Referral received from SCHOOLS — primary need: Abuse or neglect');
  });

  it('says when a referral needed no further action', () => {
    const event = buildReferralReceived({
      data: { referralSource: '6', primaryNeed: 'N4', noFurtherAction: true },
    });
    expect(summarise(event)).toBe(
      'Referral received from POLICE — primary need: Family in acute stress (no further action)',
    );
  });

  it('gives attendance as a percentage of possible sessions beside the absence counts', () => {
    const event = buildAttendanceSummarised({
      data: {
        term: 'autumn',
        academicYear: '2024/25',
        sessionsPossible: 114,
        authorisedAbsence: 6,
        unauthorisedAbsence: 4,
      },
    });
    expect(summarise(upcast(event))).toBe(
      'Attendance autumn 2024/25: 91.2% (104 attended, 6 authorised, 4 unauthorised of 114 sessions)',
    );
  });

  it('does not divide by zero when no sessions were possible', () => {
    const event = buildAttendanceSummarised({
      data: {
        term: 'summer',
        academicYear: '2023/24',
        sessionsPossible: 0,
        authorisedAbsence: 0,
        unauthorisedAbsence: 0,
      },
    });
    const current = upcast(event);
    if (current.type !== 'education.attendance.summarised') throw new Error('upcast changed the type');
    expect(attendancePercent(current.data)).toBeUndefined();
    expect(summarise(upcast(event))).toBe('Attendance summer 2023/24: no sessions possible');
  });

  it('summarises every other event type with its code list labels', () => {
    expect(summarise(buildImmunisationGiven({ data: { vaccine: 'MMR', dose: 2 } }))).toBe(
      'Immunisation given: Measles, mumps and rubella, dose 2',
    );
    expect(
      summarise(
        buildHealthVisitorReviewCompleted({
          data: { review: '6-8-week', asq3: undefined, concernsIdentified: true },
        }),
      ),
    ).toBe('Health visitor: 6-8 week review — concerns identified');
    expect(
      summarise(
        buildHealthVisitorReviewCompleted({
          data: {
            review: '2-2.5-year',
            concernsIdentified: false,
            asq3: {
              communication: 45,
              grossMotor: 50,
              fineMotor: 40,
              problemSolving: 45,
              personalSocial: 50,
            },
          },
        }),
      ),
    ).toBe('Health visitor: 2-2½ year review — no concerns identified; ASQ-3 completed');
    expect(
      summarise(
        buildEmergencyCareAttended({
          data: {
            chiefComplaint: 'Fall from sofa',
            injury: true,
            discharge: 'home',
            cpisFlagSeen: true,
            safeguardingConcern: true,
          },
        }),
      ),
    ).toBe(
      'Emergency care attendance: Fall from sofa — Discharged home (injury; safeguarding concern raised; CP-IS flag seen)',
    );
    expect(
      summarise(
        buildSafeguardingConcernRaised({
          data: { category: 'domestic-abuse', raisedBy: 'school nurse', referredToLocalAuthority: true },
        }),
      ),
    ).toBe(
      'Safeguarding concern raised by school nurse: Domestic abuse in the household — referred to the local authority',
    );
    expect(
      summarise(buildEnrolmentRecorded({ data: { schoolUrn: '100001', yearGroup: 'R', senProvision: 'K' } })),
    ).toBe('Enrolled at school 100001 in reception — SEN support');
    expect(
      summarise(
        buildExclusionRecorded({
          data: {
            category: 'SUSP',
            schoolUrn: '100001',
            sessions: 1,
            startDate: '2024-11-05',
            reasons: ['DB', 'BU'],
          },
        }),
      ),
    ).toBe(
      'Suspension from school 100001 for 1 session from 2024-11-05 — Persistent or general disruptive behaviour; Bullying',
    );
    expect(
      summarise(
        buildExclusionRecorded({
          data: {
            category: 'PERM',
            schoolUrn: '100001',
            sessions: undefined,
            startDate: '2024-11-05',
            reasons: ['PA'],
          },
        }),
      ),
    ).toBe('Permanent exclusion from school 100001 from 2024-11-05 — Physical assault against an adult');
    expect(
      summarise(
        buildAssessmentCompleted({ data: { authorisationDate: '2024-12-01', factors: ['3B', '16A'] } }),
      ),
    ).toBe(
      'Assessment completed, authorised 2024-12-01 — factors: Domestic violence: concerns about the child’s parent(s)/carer(s) being the subject of domestic violence; Abuse or neglect – ‘NEGLECT’: concerns that services may be required or the child may be suffering or likely to suffer significant harm due to abuse or neglect',
    );
    expect(
      summarise(
        buildChildProtectionPlanStarted({
          data: { initialCategory: 'EMO', numberOfPreviousPlans: 1, reviewDate: '2025-03-01' },
        }),
      ),
    ).toBe(
      'Child protection plan started — initial category: Emotional abuse; 1 previous plan; review due 2025-03-01',
    );
    expect(
      summarise(
        buildOutcomeObservationRecorded({
          data: {
            framework: 'signs-of-safety',
            domain: 'safety',
            perspective: 'family',
            observerRole: 'mother',
            rating: { scale: 'safety-scale', value: 6, min: 0, max: 10 },
            confidence: 'low',
          },
        }),
      ),
    ).toBe(
      'Outcome observation (signs-of-safety / safety) from the family perspective, by mother: rated 6 on safety-scale (0–10); confidence low',
    );
  });

  const dob = '2020-01-10';
  const perType: [string, () => AgencyEvent, string][] = [
    [
      'health.birth.notified',
      () =>
        buildEvent('health.birth.notified', {
          subject: { dateOfBirth: dob },
          data: {
            birthDate: dob,
            gestationWeeks: 34,
            birthWeightGrams: 2150,
            deliveryPlace: 'home',
            birthOrder: 2,
          },
        }),
      'Birth notified: born 2020-01-10 at 34 weeks, 2150 g — At home (domestic address) (birth order 2)',
    ],
    [
      'health.newborn-hearing-screening.completed',
      () =>
        buildEvent('health.newborn-hearing-screening.completed', {
          data: { leftEar: 'NCR', rightEar: 'CR', outcome: 'referred-to-audiology' },
        }),
      'Newborn hearing screen: No clear response in one or both ears: referred to audiology',
    ],
    [
      'health.newborn-blood-spot.screened',
      () =>
        buildEvent('health.newborn-blood-spot.screened', {
          data: {
            results: [
              { condition: 'SCD', result: 'carrier' },
              { condition: 'CF', result: 'not-suspected' },
              { condition: 'CHT', result: 'repeat-required' },
            ],
          },
        }),
      'Newborn blood spot screen (3 conditions) — Sickle cell disease: Condition not suspected: carrier identified; Congenital hypothyroidism: Repeat sample required (insufficient, unsuitable or borderline)',
    ],
    [
      'health.nipe.completed',
      () =>
        buildEvent('health.nipe.completed', {
          data: { examination: '6-8-week', hips: 'suspected-referred' },
        }),
      'NIPE: Infant examination at 6-8 weeks — hips: Abnormality suspected: referred',
    ],
    [
      'health.hospital.admitted',
      () =>
        buildEvent('health.hospital.admitted', {
          data: { admissionMethod: '22', specialty: 'paediatrics', reason: undefined },
        }),
      'Admitted to hospital (paediatrics): Emergency admission: GP',
    ],
    [
      'health.hospital.discharged',
      () =>
        buildEvent('health.hospital.discharged', {
          data: {
            admittedAt: '2024-03-01T10:00:00Z',
            dischargedAt: '2024-03-04T09:00:00Z',
            dischargeMethod: '1',
            dischargeDestination: '66',
          },
        }),
      'Discharged from hospital after 3 days: Discharged on clinical advice or with clinical consent — to Local authority foster care',
    ],
    [
      'health.camhs.referred',
      () =>
        buildEvent('health.camhs.referred', {
          data: { referralSource: 'C2', primaryReason: '15', urgency: 'urgent' },
        }),
      'CAMHS referral (urgent) from Local authority and other public services: education service or establishment — Self-harm behaviours',
    ],
    [
      'health.camhs.discharged',
      () => buildEvent('health.camhs.discharged', { data: { reason: 'transferred-to-adult-services' } }),
      'Discharged from CAMHS — Transferred to adult mental health services',
    ],
    [
      'health.observation.recorded',
      () => buildEvent('health.observation.recorded'),
      'Observation: Body weight — 12.4 kg',
    ],
    [
      'health.flag.recorded',
      () =>
        buildEvent('health.flag.recorded', {
          data: {
            code: { system: 'https://example.org/demo/flags', code: 'cp-plan' },
            text: undefined,
            status: 'inactive',
            periodStart: '2023-01-10',
            periodEnd: '2023-09-01',
          },
        }),
      'Health record flag (inactive): cp-plan — from 2023-01-10 to 2023-09-01',
    ],
    [
      'education.leaving.recorded',
      () =>
        buildEvent('education.leaving.recorded', {
          data: { reason: 'continuous-absence', destinationUrn: undefined, destinationUnknown: true },
        }),
      'Left school 100001 — Continuous unauthorised absence of 20 school days and enquiries made (destination unknown: possible child missing education)',
    ],
    [
      'education.sen-provision.changed',
      () =>
        buildEvent('education.sen-provision.changed', {
          data: {
            previousProvision: 'K',
            provision: 'E',
            needs: [
              { need: 'SPLD', rank: 2 },
              { need: 'SEMH', rank: 1 },
            ],
          },
        }),
      'SEN provision changed from SEN support to Education, health and care plan — 1. Social, emotional and mental health; 2. Specific learning difficulty',
    ],
    [
      'education.ehc-needs-assessment.requested',
      () => buildEvent('education.ehc-needs-assessment.requested', { data: { requestSource: 'parent' } }),
      'EHC needs assessment requested by parent',
    ],
    [
      'education.ehc-plan.issued',
      () => buildEvent('education.ehc-plan.issued', { data: { needs: [{ need: 'HI', rank: 1 }] } }),
      'EHC plan issued — 1. Hearing impairment',
    ],
    [
      'education.ehc-plan.ceased',
      () => buildEvent('education.ehc-plan.ceased', { data: { reason: 'moved-la' } }),
      'EHC plan ceased — Moved to another local authority',
    ],
    [
      'education.eyfs-profile.assessed',
      () => {
        const event = buildEvent('education.eyfs-profile.assessed');
        return { ...event, data: { ...event.data, goals: { ...event.data.goals, writing: 'expected' } } };
      },
      'EYFS profile 2024/25: expected level in 17 of 17 early learning goals — good level of development',
    ],
    [
      'education.key-stage.assessed',
      () =>
        buildEvent('education.key-stage.assessed', {
          data: {
            keyStage: 'KS4',
            ks2: undefined,
            ks4: { attainment8: 52.5, englishGrade: '6', mathsGrade: '4' },
          },
        }),
      'Key stage 4 (GCSE) 2024/25: Attainment 8 recorded; standard pass in English and maths',
    ],
    [
      'education.key-stage.assessed',
      () =>
        buildEvent('education.key-stage.assessed', {
          data: {
            keyStage: 'KS2',
            academicYear: '2023/24',
            ks2: { readingScaledScore: 100, mathsScaledScore: 96, gpsScaledScore: 108, writing: 'WTS' },
            ks4: undefined,
          },
        }),
      'Key stage 2 (end of primary) 2023/24: expected standard met in reading, grammar, punctuation and spelling; not yet met in maths; writing: working towards the expected standard',
    ],
    [
      'education.key-stage.assessed',
      () =>
        buildEvent('education.key-stage.assessed', {
          data: { keyStage: 'KS4', ks2: undefined, ks4: { englishGrade: 'U', mathsGrade: 'X' } },
        }),
      'Key stage 4 (GCSE) 2024/25: no standard pass in English; absent or no result in maths',
    ],
    [
      'social-care.contact.received',
      () =>
        buildEvent('social-care.contact.received', { data: { contactSource: '3E', outcome: 'early-help' } }),
      'Contact received from HEALTH SERVICES – A&E (accident and emergency department) — Passed to early help',
    ],
    [
      'social-care.section-47-enquiry.started',
      () => buildEvent('social-care.section-47-enquiry.started', { data: { icpcTargetDate: '2024-03-20' } }),
      'Section 47 enquiry started — conference target 2024-03-20',
    ],
    [
      'social-care.section-47-enquiry.completed',
      () => buildEvent('social-care.section-47-enquiry.completed', { data: { outcome: 'nfa' } }),
      'Section 47 enquiry completed — Concerns not substantiated: no further action',
    ],
    [
      'social-care.initial-child-protection-conference.held',
      () =>
        buildEvent('social-care.initial-child-protection-conference.held', {
          data: { planRequired: false, category: undefined },
        }),
      'Initial child protection conference held — no plan required',
    ],
    [
      'social-care.child-protection-plan.reviewed',
      () =>
        buildEvent('social-care.child-protection-plan.reviewed', {
          data: { latestCategory: 'EMO', planContinues: true, nextReviewDate: '2025-06-01' },
        }),
      'Child protection plan reviewed — category: Emotional abuse; plan continues, next review 2025-06-01',
    ],
    [
      'social-care.child-protection-plan.ended',
      () =>
        buildEvent('social-care.child-protection-plan.ended', {
          data: {
            startDate: '2024-01-05',
            endDate: '2024-09-30',
            latestCategory: 'PHY',
            reason: 'no-longer-at-risk',
          },
        }),
      'Child protection plan ended (2024-01-05 to 2024-09-30; latest category: Physical abuse) — No longer at continuing risk of significant harm',
    ],
    [
      'social-care.cin-plan.started',
      () => buildEvent('social-care.cin-plan.started', { data: { primaryNeed: 'N2' } }),
      "Child in need plan started — primary need: Child's disability",
    ],
    [
      'social-care.cin-plan.ended',
      () => buildEvent('social-care.cin-plan.ended', { data: { reason: 'early-help' } }),
      'Child in need plan ended — Stepped down to early help',
    ],
    [
      'social-care.looked-after-episode.started',
      () =>
        buildEvent('social-care.looked-after-episode.started', {
          data: { legalStatus: 'C1', placement: 'U1' },
        }),
      'Became looked after: Interim care order — placement: Foster placement with relative(s) or friend(s) – long term fostering',
    ],
    [
      'social-care.looked-after-episode.changed',
      () =>
        buildEvent('social-care.looked-after-episode.changed', {
          data: {
            reasonForNewEpisode: 'L',
            legalStatus: 'E1',
            placement: 'A5',
            reasonPlaceChange: undefined,
          },
        }),
      'Looked-after episode changed: Change of legal status only — now Placement order granted; placement: Placed for adoption with placement order with current foster carer(s) (S21 Adoption and Children Act 2002) or with a freeing order where parental/guardian consent was dispensed with (S18(1)(b) Adoption Act 1976)',
    ],
    [
      'social-care.looked-after-episode.ended',
      () => buildEvent('social-care.looked-after-episode.ended', { data: { reasonEnded: 'E11' } }),
      'Ceased to be looked after — Adopted - application for an adoption order unopposed',
    ],
    [
      'social-care.looked-after-review.held',
      () => buildEvent('social-care.looked-after-review.held', { data: { participation: 'PN7' } }),
      'Looked-after review held — Child does not attend nor are his or her views conveyed to the review',
    ],
    [
      'social-care.missing-episode.recorded',
      () =>
        buildEvent('social-care.missing-episode.recorded', {
          data: { kind: 'A', startDate: '2024-05-02', endDate: undefined },
        }),
      'Away from placement without authorisation — from 2024-05-02, not yet returned',
    ],
    [
      'social-care.early-help-episode.started',
      () =>
        buildEvent('social-care.early-help-episode.started', {
          data: { needs: ['housing', 'financial-stability'], leadPractitioner: 'housing support officer' },
        }),
      'Early help started, led by housing support officer — Secure housing; Financial stability',
    ],
    [
      'social-care.early-help-episode.ended',
      () => buildEvent('social-care.early-help-episode.ended', { data: { reason: 'stepped-up' } }),
      'Early help ended — Stepped up to children’s social care',
    ],
    [
      'social-care.case.closed',
      () => buildEvent('social-care.case.closed', { data: { reason: 'RC9' } }),
      'Case closed — Case closed after assessment, referred to early help',
    ],
    [
      'social-care.child-characteristics.recorded',
      () =>
        buildEvent('social-care.child-characteristics.recorded', {
          data: { ethnicity: 'MWBA', disabilities: ['HEAR', 'COMM'] },
        }),
      'Characteristics recorded — ethnicity: White and Black African; disability: Hearing; Communication',
    ],
    [
      'social-care.upn-unknown.recorded',
      () => buildEvent('social-care.upn-unknown.recorded', { data: { reason: 'UN1' } }),
      'UPN unknown — Child is aged under 6 years old and is not yet attending school and has not been allocated a UPN',
    ],
    [
      'social-care.death.recorded',
      () => buildEvent('social-care.death.recorded', { data: { dateOfDeath: '2025-01-04' } }),
      'Died 2025-01-04',
    ],
    [
      'social-care.assessment.started',
      () =>
        buildEvent('social-care.assessment.started', {
          data: { startDate: '2025-01-04', internalReviewDate: '2025-01-20' },
        }),
      'Assessment started — internal review 2025-01-20',
    ],
    [
      'social-care.pre-proceedings.started',
      () =>
        buildEvent('social-care.pre-proceedings.started', {
          data: { letterBeforeProceedingsDate: '2025-01-04', familyGroupDecisionMeetingOffered: false },
        }),
      'Pre-proceedings started — letter before proceedings sent 2025-01-04; family group decision meeting not offered',
    ],
    [
      'social-care.pre-proceedings.ended',
      () =>
        buildEvent('social-care.pre-proceedings.ended', {
          data: { decisionDate: '2025-02-01', outcome: undefined, courtApplicationDate: '2025-02-03' },
        }),
      'Pre-proceedings ended, decided 2025-02-01 — outcome: not in the return; court application 2025-02-03',
    ],
    [
      'social-care.looked-after-episode.changed',
      () =>
        buildEvent('social-care.looked-after-episode.changed', {
          data: {
            reasonForNewEpisode: 'P',
            legalStatus: 'C2',
            placement: 'K2',
            reasonPlaceChange: undefined,
          },
          provenance: {
            kind: 'statutory-return',
            format: 'ssda903',
            collectionYear: '2024-25',
            fileSha256: 'a'.repeat(64),
            location: 'episodes.csv line 2',
          },
        }),
      'Looked-after episode changed: Change of placement and carer(s) only (reason not in the return) — now Full care order; placement: Children’s Homes subject to Children’s Homes Regulations',
    ],
    [
      'social-care.uasc-status.recorded',
      () => buildEvent('social-care.uasc-status.recorded', { data: { yearEnding: '2024-03-31' } }),
      'Unaccompanied asylum-seeking child (return for the year ending 2024-03-31)',
    ],
    [
      'social-care.uasc-status.ceased',
      () => buildEvent('social-care.uasc-status.ceased', { data: { ceasedDate: '2025-01-04' } }),
      'Ceased to be an unaccompanied asylum-seeking child on 2025-01-04',
    ],
    [
      'social-care.looked-after-outcomes.recorded',
      () =>
        buildEvent('social-care.looked-after-outcomes.recorded', {
          data: {
            yearEnding: '2024-03-31',
            sdqScore: undefined,
            sdqReason: 'SDQ2',
            healthCheck: true,
            immunisations: false,
            teethCheck: true,
            healthAssessment: true,
            convicted: false,
            substanceMisuse: true,
            interventionReceived: true,
          },
        }),
      'Looked-after outcomes, year ending 2024-03-31 — no SDQ score (SDQ2: Carer(s) refused to complete and return questionnaire); health check yes; immunisations no; teeth check yes; health assessment yes; convicted no; substance misuse yes; intervention received yes',
    ],
    [
      'social-care.care-leaver.contacted',
      () =>
        buildEvent('social-care.care-leaver.contacted', {
          data: { yearEnding: '2024-03-31', inTouch: 'YES', activity: 'G5', accommodation: 'W2' },
        }),
      'Care leaver, year ending 2024-03-31: in touch YES (Yes - in touch); activity G5 (Young person not in education, employment or training: other circumstances); accommodation W2 (Bed and breakfast: accommodation is considered unsuitable)',
    ],
    [
      'social-care.adoption-match.recorded',
      () =>
        buildEvent('social-care.adoption-match.recorded', {
          data: {
            decisionDate: '2024-05-01',
            matchedDate: '2024-09-02',
            adoptedByFosterCarers: true,
            numberOfAdopters: 1,
            adopterSex: 'F1',
            adopterLegalStatus: 'L0',
          },
        }),
      'Matched for adoption on 2024-09-02 (decision 2024-05-01) — adopters: Single Female, Single Adopter, the foster carers',
    ],
    [
      'social-care.placement-for-adoption.decided',
      () =>
        buildEvent('social-care.placement-for-adoption.decided', { data: { decisionDate: '2024-05-01' } }),
      'Decision that the child should be placed for adoption (2024-05-01)',
    ],
    [
      'social-care.placement-for-adoption.reversed',
      () =>
        buildEvent('social-care.placement-for-adoption.reversed', {
          data: { decisionDate: '2024-05-01', reversedDate: '2024-11-01', reason: 'RD2' },
        }),
      'Decision that the child should no longer be placed for adoption — The Court did not make a placement order',
    ],
    [
      'social-care.previous-permanence.recorded',
      () =>
        buildEvent('social-care.previous-permanence.recorded', {
          data: { yearEnding: '2024-03-31', option: 'P3', arrangedBy: 'WAL', orderDate: '2017' },
        }),
      'Previous permanence: Residence order (RO) or child arrangements order (CAO) which sets out with whom the child is to live. (order 2017, arranged by WAL)',
    ],
    [
      'social-care.social-worker.allocated',
      () =>
        buildEvent('social-care.social-worker.allocated', {
          data: { workerId: 'SW1204', startDate: '2024-05-01' },
        }),
      'Social worker SW1204 allocated from 2024-05-01',
    ],
    [
      'social-care.social-worker.allocation-ended',
      () =>
        buildEvent('social-care.social-worker.allocation-ended', {
          data: { workerId: 'SW1204', startDate: '2024-05-01', endDate: '2024-12-01', reason: 'ORGRST' },
        }),
      'Social worker SW1204 no longer allocated from 2024-12-01 — reason ORGRST',
    ],
    [
      'practice.decision.recorded',
      () =>
        buildEvent('practice.decision.recorded', {
          data: {
            decision: 'Offer a family group conference.',
            optionsConsidered: [],
            decidedBy: { role: 'social worker', agency: 'social-care' },
            reviewDate: '2025-02-01',
          },
        }),
      "Decision by social worker (children's social care): Offer a family group conference; review 2025-02-01",
    ],
    [
      'practice.voice-of-child.recorded',
      () =>
        buildEvent('practice.voice-of-child.recorded', {
          data: {
            capturedHow: 'drawing',
            verbatim: false,
            capturedBy: { role: 'school nurse', agency: 'health' },
          },
        }),
      'Voice of the child recorded by school nurse (health): through drawing or other creative work — as conveyed, not verbatim',
    ],
    [
      'practice.decision.reviewed',
      () =>
        buildEvent('practice.decision.reviewed', {
          data: {
            outcome: 'revised',
            revisedDecision: 'Step down to a child in need plan.',
            againstExpected: [
              {
                framework: 'ecm',
                domain: 'stay-safe',
                finding: 'No new injuries.',
                judgement: 'as-expected',
              },
              {
                framework: 'ecm',
                domain: 'enjoy-and-achieve',
                finding: 'Attendance fell again.',
                judgement: 'worse-than-expected',
              },
            ],
            nextReviewDate: '2025-03-01',
            reviewedBy: { role: 'team manager', agency: 'social-care' },
          },
        }),
      "Decision reviewed by team manager (children's social care): decision revised, now: Step down to a child in need plan; against what was expected: stay-safe as expected, enjoy-and-achieve worse than expected; next review 2025-03-01",
    ],
    [
      'practice.views.differ',
      () =>
        buildEvent('practice.views.differ', {
          data: {
            framework: 'ecm',
            domain: 'be-healthy',
            views: [
              { perspective: 'child', role: 'the child', view: 'I am fine.' },
              { perspective: 'family', role: 'father', view: 'He is not sleeping.' },
              {
                perspective: 'professional',
                role: 'school nurse',
                agency: 'health',
                view: 'Weight is falling.',
              },
            ],
            recordedBy: { role: 'social worker', agency: 'social-care' },
          },
        }),
      "Views differ about ecm / be-healthy: the child (the child or young person), father (a parent or carer), school nurse (health) — recorded by social worker (children's social care)",
    ],
  ];

  it('has a summary example for every type added to the catalogue', () => {
    const covered = new Set(perType.map(([type]) => type));
    const original = [
      'health.health-visitor-review.completed',
      'health.immunisation.given',
      'health.emergency-care.attended',
      'health.safeguarding-concern.raised',
      'education.enrolment.recorded',
      'education.attendance.summarised',
      'education.exclusion.recorded',
      'social-care.referral.received',
      'social-care.assessment.completed',
      'social-care.child-protection-plan.started',
      'outcome.observation.recorded',
    ];
    expect(EVENT_TYPES.filter((type) => !covered.has(type) && !original.includes(type))).toEqual([]);
  });

  it.each(perType)('summarises %s in the words of its code lists', (_type, make, expected) => {
    const event = make();
    expect(summarise(upcast(event))).toBe(expected);
  });

  it.each(EVENT_TYPES)('summarises a valid %s without falling through', (type) => {
    const event = buildEvent(type);
    expect(parseAgencyEvent(event).ok).toBe(true);
    expect(summarise(upcast(event))).toMatch(/\S/);
  });
});
