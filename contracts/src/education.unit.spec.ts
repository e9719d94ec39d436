import { buildEvent } from '@throughline/testing';
import { daysAgo, issuesOf, withData } from './test-helpers';

describe('education contracts', () => {
  it.each([
    'education.leaving.recorded',
    'education.sen-provision.changed',
    'education.ehc-needs-assessment.requested',
    'education.ehc-plan.issued',
    'education.ehc-plan.ceased',
    'education.eyfs-profile.assessed',
    'education.key-stage.assessed',
  ] as const)('accepts a valid %s', (type) => {
    expect(issuesOf(buildEvent(type))).toEqual([]);
  });

  it('keeps permanent exclusion and suspension in one type: PERM without sessions, SUSP with', () => {
    const suspension = buildEvent('education.exclusion.recorded');
    expect(issuesOf(withData(suspension, { sessions: undefined }))).toEqual([
      'data.sessions required-for-suspension',
    ]);
    const permanent = withData(suspension, {
      category: 'PERM',
      sessions: undefined,
      reasons: ['PA', 'OW'],
      governorsDecision: 'upheld',
      independentReview: 'upheld',
    });
    expect(issuesOf(permanent)).toEqual([]);
    expect(issuesOf(withData(suspension, { independentReview: 'upheld' }))).toEqual([
      'data.independentReview only-for-permanent-exclusion',
    ]);
  });

  it('refuses a leaving record naming a destination it says is unknown, or the same school', () => {
    const event = buildEvent('education.leaving.recorded');
    expect(issuesOf(withData(event, { destinationUnknown: true }))).toEqual([
      'data.destinationUrn exclusive-with-destinationUnknown',
    ]);
    expect(issuesOf(withData(event, { destinationUrn: '100001' }))).toEqual([
      'data.destinationUrn differs-from-schoolUrn',
    ]);
    expect(issuesOf(withData(event, { reason: 'expelled' }))).toEqual(['data.reason one-of']);
  });

  it('refuses a SEN provision change that changes nothing, or types of need with no SEN', () => {
    const event = buildEvent('education.sen-provision.changed');
    expect(issuesOf(withData(event, { previousProvision: 'K' }))).toEqual([
      'data.provision differs-from-previousProvision',
    ]);
    expect(issuesOf(withData(event, { previousProvision: 'K', provision: 'N' }))).toEqual([
      'data.needs no-needs-without-sen',
    ]);
    expect(issuesOf(withData(event, { provision: 'X' }))).toEqual(['data.provision one-of']);
  });

  it('ranks the types of need of an EHC plan 1 and 2, once each', () => {
    const event = buildEvent('education.ehc-plan.issued');
    expect(issuesOf(withData(event, { needs: [{ need: 'SEMH', rank: 2 }] }))).toEqual([
      'data.needs ranks-from-1',
    ]);
    expect(
      issuesOf(
        withData(event, {
          needs: [
            { need: 'SEMH', rank: 1 },
            { need: 'SEMH', rank: 2 },
          ],
        }),
      ),
    ).toEqual(['data.needs unique-need']);
    expect(issuesOf(withData(event, { needs: [] }))).toEqual(['data.needs min-items']);
    expect(issuesOf(withData(event, { requestDate: daysAgo(0), issueDate: daysAgo(3) }))).toEqual([
      'data.issueDate not-before-requestDate',
    ]);
  });

  it('lets plans lie in the future but not facts', () => {
    const requested = buildEvent('education.ehc-needs-assessment.requested');
    expect(issuesOf(withData(requested, { decisionDueDate: daysAgo(-40) }))).toEqual([]);
    expect(issuesOf(withData(requested, { requestDate: daysAgo(-5) }))).toEqual([
      'data.requestDate not-in-future',
    ]);
    const ceased = buildEvent('education.ehc-plan.ceased');
    expect(issuesOf(withData(ceased, { ceaseDate: '2001-01-01' }))).toEqual([
      'data.ceaseDate not-before-birth',
    ]);
  });

  it('needs every early learning goal of the EYFS profile, each at a known level', () => {
    const event = buildEvent('education.eyfs-profile.assessed');
    const { writing: _, ...goals } = event.data.goals;
    expect(issuesOf(withData(event, { goals }))).toEqual(['data.goals.writing required']);
    expect(issuesOf(withData(event, { goals: { ...event.data.goals, writing: 'exceeding' } }))).toEqual([
      'data.goals.writing one-of',
    ]);
  });

  it('gives the results block of its own key stage only', () => {
    const event = buildEvent('education.key-stage.assessed');
    expect(issuesOf(withData(event, { keyStage: 'KS4' }))).toEqual(['data.keyStage results-of-key-stage']);
    expect(issuesOf(withData(event, { ks2: { readingScaledScore: 121 } }))).toEqual([
      'data.ks2.readingScaledScore max',
    ]);
    expect(
      issuesOf(
        withData(event, {
          keyStage: 'KS4',
          ks2: undefined,
          ks4: { attainment8: 47.5, englishGrade: '5', mathsGrade: '4' },
        }),
      ),
    ).toEqual([]);
    expect(
      issuesOf(withData(event, { keyStage: 'KS4', ks2: undefined, ks4: { attainment8: 47.25 } })),
    ).toEqual(['data.ks4.attainment8 multiple-of']);
  });
});
