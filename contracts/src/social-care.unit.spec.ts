import { buildEvent } from '@throughline/testing';
import {
  ASSESSMENT_FACTOR,
  CLOSURE_REASON,
  EPISODE_END_REASON,
  LEGAL_STATUS,
  PRIMARY_NEED,
  REFERRAL_SOURCE,
  REVIEW_PARTICIPATION,
} from './social-care';
import { daysAgo, issuesOf, withData } from './test-helpers';

const NEW_TYPES = [
  'social-care.contact.received',
  'social-care.section-47-enquiry.started',
  'social-care.section-47-enquiry.completed',
  'social-care.initial-child-protection-conference.held',
  'social-care.child-protection-plan.reviewed',
  'social-care.child-protection-plan.ended',
  'social-care.cin-plan.started',
  'social-care.cin-plan.ended',
  'social-care.looked-after-episode.started',
  'social-care.looked-after-episode.changed',
  'social-care.looked-after-episode.ended',
  'social-care.looked-after-review.held',
  'social-care.missing-episode.recorded',
  'social-care.early-help-episode.started',
  'social-care.early-help-episode.ended',
  'social-care.case.closed',
] as const;

/** The subject as the LA knows an unborn child: an expected date of birth, no date of birth. */
function unborn<E extends { subject: object }>(event: E): E {
  const { dateOfBirth: _, ...subject } = event.subject as { dateOfBirth?: string };
  return { ...event, subject: { ...subject, expectedDateOfBirth: daysAgo(-60) } };
}

describe('social care contracts', () => {
  it.each(NEW_TYPES)('accepts a valid %s', (type) => {
    expect(issuesOf(buildEvent(type))).toEqual([]);
  });

  it('carries the CIN census and SSDA903 code lists complete', () => {
    expect(Object.keys(REFERRAL_SOURCE.labels).sort()).toEqual(
      [
        '1A',
        '1B',
        '1C',
        '1D',
        '2A',
        '2B',
        '3A',
        '3B',
        '3C',
        '3D',
        '3E',
        '3F',
        '4',
        '5A',
        '5B',
        '5C',
        '5D',
        '6',
        '7',
        '8',
        '9',
        '10',
      ].sort(),
    );
    expect(Object.keys(PRIMARY_NEED.labels).sort()).toEqual([
      'N0',
      'N1',
      'N2',
      'N3',
      'N4',
      'N5',
      'N6',
      'N7',
      'N8',
      'N9',
    ]);
    expect(Object.keys(CLOSURE_REASON.labels)).toEqual([
      'RC1',
      'RC2',
      'RC3',
      'RC4',
      'RC5',
      'RC6',
      'RC7',
      'RC8',
      'RC9',
    ]);
    expect(Object.keys(REVIEW_PARTICIPATION.labels)).toEqual([
      'PN0',
      'PN1',
      'PN2',
      'PN3',
      'PN4',
      'PN5',
      'PN6',
      'PN7',
    ]);
    expect(Object.keys(LEGAL_STATUS.labels).sort()).toEqual(
      ['C1', 'C2', 'D1', 'E1', 'V2', 'V3', 'V4', 'L1', 'L2', 'L3', 'J1', 'J2', 'J3'].sort(),
    );
    expect(Object.keys(EPISODE_END_REASON.labels)).toEqual(
      expect.arrayContaining(['E11', 'E12', 'E13', 'X1']),
    );
    expect(Object.keys(ASSESSMENT_FACTOR.labels)).toEqual(expect.arrayContaining(['1A', '21', '24A']));
  });

  it('allows pre-birth work about an unborn child, and refuses it where a born child is needed', () => {
    for (const type of [
      'social-care.contact.received',
      'social-care.initial-child-protection-conference.held',
      'social-care.child-protection-plan.started',
      'social-care.assessment.completed',
    ] as const) {
      expect(issuesOf(unborn(buildEvent(type)))).toEqual([]);
    }
    expect(issuesOf(unborn(buildEvent('social-care.looked-after-episode.started')))).toEqual([
      'subject.expectedDateOfBirth pre-birth-not-allowed',
    ]);
  });

  it('reports an unborn plan ended after the birth: its start may precede the date of birth', () => {
    const ended = buildEvent('social-care.child-protection-plan.ended');
    const born = { ...ended, subject: { ...ended.subject, dateOfBirth: daysAgo(30) } };
    expect(issuesOf(withData(born, { startDate: daysAgo(100), reason: 'born-new-plan' }))).toEqual([]);
    expect(issuesOf(withData(born, { endDate: daysAgo(40) }))).toEqual(['data.endDate not-before-birth']);
  });

  it('orders the dates of enquiries, conferences, plans and episodes', () => {
    expect(
      issuesOf(
        withData(buildEvent('social-care.section-47-enquiry.completed'), { completedDate: daysAgo(20) }),
      ),
    ).toEqual(['data.completedDate not-before-startDate']);
    expect(issuesOf(withData(buildEvent('social-care.cin-plan.ended'), { endDate: daysAgo(300) }))).toEqual([
      'data.endDate not-before-startDate',
    ]);
    expect(
      issuesOf(
        withData(buildEvent('social-care.child-protection-plan.reviewed'), { nextReviewDate: daysAgo(5) }),
      ),
    ).toEqual(['data.nextReviewDate not-before-reviewDate']);
    expect(issuesOf(withData(buildEvent('social-care.case.closed'), { closureDate: daysAgo(-3) }))).toEqual([
      'data.closureDate not-in-future',
    ]);
  });

  it('gives a category of abuse when, and only when, the conference requires a plan', () => {
    const icpc = buildEvent('social-care.initial-child-protection-conference.held');
    expect(issuesOf(withData(icpc, { planRequired: false }))).toEqual(['data.category required-when-plan']);
    expect(issuesOf(withData(icpc, { planRequired: false, category: undefined }))).toEqual([]);
    expect(issuesOf(withData(icpc, { category: 'XYZ' }))).toEqual(['data.category one-of']);
  });

  it('needs a next review date while a plan continues', () => {
    const reviewed = buildEvent('social-care.child-protection-plan.reviewed');
    expect(issuesOf(withData(reviewed, { nextReviewDate: undefined }))).toEqual([
      'data.nextReviewDate required-when-plan-continues',
    ]);
    expect(issuesOf(withData(reviewed, { nextReviewDate: undefined, planContinues: false }))).toEqual([]);
  });

  it('keeps SSDA903 episodes consistent: placement change reasons, and X1 is a change, not an end', () => {
    const changed = buildEvent('social-care.looked-after-episode.changed');
    expect(issuesOf(withData(changed, { reasonPlaceChange: undefined }))).toEqual([
      'data.reasonPlaceChange required-for-placement-change',
    ]);
    expect(issuesOf(withData(changed, { reasonForNewEpisode: 'L' }))).toEqual([
      'data.reasonPlaceChange only-for-placement-change',
    ]);
    expect(issuesOf(withData(changed, { reasonForNewEpisode: 'S' }))).toEqual([
      'data.reasonForNewEpisode one-of',
    ]);
    const ended = buildEvent('social-care.looked-after-episode.ended');
    expect(issuesOf(withData(ended, { reasonEnded: 'X1' }))).toEqual(['data.reasonEnded x1-is-a-change']);
    expect(
      issuesOf(withData(buildEvent('social-care.looked-after-episode.started'), { legalStatus: 'V1' })),
    ).toEqual(['data.legalStatus one-of']);
  });

  it('records missing and away episodes, open until they end', () => {
    const missing = buildEvent('social-care.missing-episode.recorded');
    expect(issuesOf(withData(missing, { endDate: undefined, kind: 'A' }))).toEqual([]);
    expect(issuesOf(withData(missing, { kind: 'X' }))).toEqual(['data.kind one-of']);
    expect(issuesOf(withData(missing, { returnInterviewOffered: false }))).toEqual([
      'data.returnInterviewAccepted requires-returnInterviewOffered',
    ]);
  });

  it('refuses an early help episode without needs, and unknown closure reasons', () => {
    expect(issuesOf(withData(buildEvent('social-care.early-help-episode.started'), { needs: [] }))).toEqual([
      'data.needs min-items',
    ]);
    expect(issuesOf(withData(buildEvent('social-care.case.closed'), { reason: 'RC10' }))).toEqual([
      'data.reason one-of',
    ]);
  });
});
