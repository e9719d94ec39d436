import { EVENT_TYPES, parseAgencyEvent } from '@throughline/contracts';
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
    expect(summarise(event)).toBe('Referral received from Schools — primary need: Abuse or neglect');
  });

  it('says when a referral needed no further action', () => {
    const event = buildReferralReceived({
      data: { referralSource: '6', primaryNeed: 'N4', noFurtherAction: true },
    });
    expect(summarise(event)).toBe(
      'Referral received from Police — primary need: Family in acute stress (no further action)',
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
    expect(summarise(event)).toBe(
      'Attendance autumn 2024/25: 91.2% (6 authorised, 4 unauthorised of 114 sessions)',
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
    expect(attendancePercent(event.data)).toBeUndefined();
    expect(summarise(event)).toBe('Attendance summer 2023/24: no sessions possible');
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
    ).toBe(
      'Health visitor: 2-2½ year review — no concerns identified; ASQ-3 communication 45, gross motor 50, fine motor 40, problem solving 45, personal-social 50',
    );
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
      'Assessment completed, authorised 2024-12-01 — factors: Domestic abuse: concerns about the parent or carer; Neglect',
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

  it.each(EVENT_TYPES)('summarises a valid %s without falling through', (type) => {
    const event = buildEvent(type);
    expect(parseAgencyEvent(event).ok).toBe(true);
    expect(summarise(event)).toMatch(/\S/);
  });
});
