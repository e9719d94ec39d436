import { buildEvent } from '@throughline/testing';
import {
  CIN_DISABILITY,
  CIN_ETHNICITY,
  CIN_UPN_UNKNOWN,
  PRE_PROCEEDINGS_OUTCOME,
} from './social-care-census';
import { daysAgo, issuesOf, withData } from './test-helpers';

const CENSUS_TYPES = [
  'social-care.child-characteristics.recorded',
  'social-care.upn-unknown.recorded',
  'social-care.death.recorded',
  'social-care.assessment.started',
  'social-care.pre-proceedings.started',
  'social-care.pre-proceedings.ended',
] as const;

const PROVENANCE = {
  kind: 'statutory-return',
  format: 'cin-census',
  collectionYear: '2025-26',
  fileSha256: 'a'.repeat(64),
  location: 'Message/Children/Child[1]/CINdetails[1]',
};

describe('CIN census contracts', () => {
  it.each(CENSUS_TYPES)('accepts a valid %s', (type) => {
    expect(issuesOf(buildEvent(type))).toEqual([]);
  });

  it('takes ethnicity, disability and UPN unknown codes with the XSD’s labels', () => {
    expect(CIN_ETHNICITY.labels.WIRT).toBe('Traveller of Irish heritage');
    expect(CIN_DISABILITY.labels.NONE).toBe('No disability');
    expect(CIN_DISABILITY.options).toHaveLength(13);
    expect(CIN_UPN_UNKNOWN.options).toEqual(['UN1', 'UN2', 'UN3', 'UN4', 'UN5', 'UN6', 'UN7']);
    expect(PRE_PROCEEDINGS_OUTCOME.options).toEqual(['A', 'B', 'C']);
  });

  it('characteristics: ethnicity is special category data; NONE stands alone; each disability once', () => {
    const event = buildEvent('social-care.child-characteristics.recorded');
    expect(issuesOf({ ...event, specialCategories: undefined })).toEqual(['specialCategories required']);
    expect(issuesOf(withData(event, { disabilities: ['NONE', 'HEAR'] }))).toEqual([
      'data.disabilities none-alone',
    ]);
    expect(issuesOf(withData(event, { disabilities: ['HEAR', 'HEAR'] }))).toEqual([
      'data.disabilities unique-items',
    ]);
    expect(issuesOf(withData(event, { disabilities: undefined }))).toEqual([]);
    expect(issuesOf(withData(event, { ethnicity: 'WHITE' }))).toEqual(['data.ethnicity one-of']);
  });

  it('UPN unknown: the CIN census has UN1-UN7 only (UN8-UN10 are SEN2’s)', () => {
    const event = buildEvent('social-care.upn-unknown.recorded');
    expect(issuesOf(withData(event, { reason: 'UN8' }))).toEqual(['data.reason one-of']);
  });

  it('an unborn child may have characteristics and a referral-stage assessment, but not a death', () => {
    const unborn = <E extends { subject: object }>(event: E): E => {
      const { dateOfBirth: _, ...subject } = event.subject as { dateOfBirth?: string };
      return { ...event, subject: { ...subject, expectedDateOfBirth: daysAgo(-60) } };
    };
    expect(issuesOf(unborn(buildEvent('social-care.child-characteristics.recorded')))).toEqual([]);
    expect(issuesOf(unborn(buildEvent('social-care.assessment.started')))).toEqual([]);
    expect(issuesOf(unborn(buildEvent('social-care.death.recorded')))).toEqual([
      'subject.expectedDateOfBirth pre-birth-not-allowed',
    ]);
  });

  it('pre-proceedings dates keep their order (D2I rules 9006, 9009, 9012, 9013)', () => {
    const started = buildEvent('social-care.pre-proceedings.started');
    expect(issuesOf(withData(started, { letterBeforeProceedingsDate: daysAgo(70) }))).toEqual([
      'data.letterBeforeProceedingsDate not-before-startDate',
    ]);
    const ended = buildEvent('social-care.pre-proceedings.ended');
    expect(issuesOf(withData(ended, { decisionDate: daysAgo(70) }))).toEqual([
      'data.decisionDate not-before-startDate',
    ]);
    expect(issuesOf(withData(ended, { courtApplicationDate: daysAgo(6) }))).toEqual([
      'data.courtApplicationDate not-before-decisionDate',
    ]);
    expect(
      issuesOf(
        withData(ended, { courtApplicationDate: daysAgo(4), letterInitiatingProceedingsDate: daysAgo(5) }),
      ),
    ).toEqual(['data.letterInitiatingProceedingsDate not-before-courtApplicationDate']);
  });

  it('the pre-proceedings outcome (CS131) is valid from 2025-26 only', () => {
    const ended = buildEvent('social-care.pre-proceedings.ended');
    expect(issuesOf({ ...ended, provenance: PROVENANCE })).toEqual([]);
    expect(issuesOf({ ...ended, provenance: { ...PROVENANCE, collectionYear: '2024-25' } })).toEqual([
      'data.outcome code-valid-in-year',
    ]);
  });

  it.each([
    ['social-care.referral.received', ['primaryNeed']],
    ['social-care.assessment.completed', ['factors']],
    ['social-care.child-protection-plan.started', ['rationale', 'reviewDate']],
    ['social-care.section-47-enquiry.completed', ['completedDate', 'outcome', 'rationale']],
    ['social-care.initial-child-protection-conference.held', ['planRequired', 'category', 'rationale']],
    [
      'social-care.child-protection-plan.reviewed',
      ['latestCategory', 'planContinues', 'rationale', 'nextReviewDate'],
    ],
    ['social-care.child-protection-plan.ended', ['reason', 'rationale']],
    ['social-care.cin-plan.ended', ['reason']],
    ['social-care.case.closed', ['reason']],
  ] as const)('%s may leave out what a CIN census does not hold, only when imported', (type, fields) => {
    const event = buildEvent(type);
    const without = withData(event, Object.fromEntries(fields.map((field) => [field, undefined])));
    const imported = { ...without, provenance: { ...PROVENANCE, collectionYear: '2024-25' } };
    expect(issuesOf(imported)).toEqual([]);
    const required = issuesOf(without).filter((issue) => issue.endsWith('required-unless-imported'));
    expect(required.length).toBeGreaterThan(0);
  });

  it('a completed section 47 enquiry says icpcRequired consistently with its outcome', () => {
    const event = buildEvent('social-care.section-47-enquiry.completed');
    expect(issuesOf(withData(event, { outcome: 'nfa', icpcRequired: true }))).toEqual([
      'data.icpcRequired consistent-with-outcome',
    ]);
    expect(issuesOf(withData(event, { outcome: 'icpc', icpcRequired: true }))).toEqual([]);
  });
});
