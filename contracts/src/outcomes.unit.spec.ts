import { buildEvent } from '@throughline/testing';
import { parseAgencyEvent } from './validate';
import { daysAgo, issuesOf, withData } from './test-helpers';

describe('practice and outcome contracts (any agency)', () => {
  it.each([
    'practice.decision.recorded',
    'practice.voice-of-child.recorded',
    'outcome.observation.recorded',
  ] as const)('accepts a valid %s from each agency', (type) => {
    for (const agency of ['health', 'education', 'social-care'] as const) {
      const event = { ...buildEvent(type), source: { agency, system: 'demo-system' } };
      const result = parseAgencyEvent(JSON.parse(JSON.stringify(event)), { publishingAgency: agency });
      expect(result.ok).toBe(true);
    }
  });

  it('needs a decision with its rationale, uncertainty, decider and review date', () => {
    const decision = buildEvent('practice.decision.recorded');
    expect(
      issuesOf(withData(decision, { rationale: undefined, uncertainty: '   ', reviewDate: undefined })),
    ).toEqual(['data.rationale required', 'data.uncertainty min-length', 'data.reviewDate required']);
    expect(issuesOf(withData(decision, { decidedBy: { role: 'team manager' } }))).toEqual([
      'data.decidedBy.agency required',
    ]);
    expect(issuesOf(withData(decision, { optionsConsidered: [] }))).toEqual([]);
    expect(issuesOf(withData(decision, { decidedOn: daysAgo(-2) }))).toEqual([
      'data.decidedOn not-in-future',
    ]);
    expect(issuesOf(withData(decision, { reviewDate: daysAgo(-30) }))).toEqual([]);
  });

  it('names the array item that holds a NUL character', () => {
    const decision = buildEvent('practice.decision.recorded');
    const optionsConsidered = [
      { option: 'stay at home' },
      { option: 'kinship\u0000care', whyNot: 'no carer' },
    ];
    expect(issuesOf(withData(decision, { optionsConsidered }))).toEqual([
      'data.optionsConsidered.1.option no-nul-character',
    ]);
  });

  it("keeps the child's words, how they were captured and by whom", () => {
    const voice = buildEvent('practice.voice-of-child.recorded');
    expect(issuesOf(withData(voice, { whatTheChildSaid: undefined, capturedHow: 'telepathy' }))).toEqual([
      'data.whatTheChildSaid required',
      'data.capturedHow one-of',
    ]);
    expect(issuesOf(withData(voice, { whatTheChildSaid: 'x'.repeat(20001) }))).toEqual([
      'data.whatTheChildSaid max-length',
    ]);
    const { dateOfBirth: _, ...subject } = voice.subject;
    expect(issuesOf({ ...voice, subject: { ...subject, expectedDateOfBirth: daysAgo(-30) } })).toEqual([
      'subject.expectedDateOfBirth pre-birth-not-allowed',
    ]);
  });

  it('takes an observation from a practitioner with agency and role, on a named scale', () => {
    const observation = buildEvent('outcome.observation.recorded');
    expect(issuesOf(withData(observation, { observerAgency: 'police' }))).toEqual([]);
    expect(issuesOf(withData(observation, { perspective: 'neighbour' }))).toEqual([
      'data.perspective one-of',
    ]);
    expect(
      issuesOf(withData(observation, { rating: { scale: 'outcomes-star', value: 11, min: 1, max: 10 } })),
    ).toEqual(['data.rating rating-within-scale']);
  });
});

describe('issue 13: who recorded it, which domains, expected outcomes, reviews, differing views', () => {
  const decision = buildEvent('practice.decision.recorded');

  it('takes the envelope recordedBy {role, agency, team?} on any type, its agency from the code list', () => {
    const attendance = buildEvent('education.attendance.summarised');
    const recordedBy = { role: 'attendance officer', agency: 'education', team: 'Inclusion' };
    expect(issuesOf({ ...attendance, recordedBy })).toEqual([]);
    expect(issuesOf({ ...attendance, recordedBy: { role: 'attendance officer', agency: 'school' } })).toEqual(
      ['recordedBy.agency one-of'],
    );
    expect(issuesOf({ ...attendance, recordedBy: { agency: 'education' } })).toEqual([
      'recordedBy.role required',
    ]);
  });

  it('takes the envelope outcomeDomains, 1-10, each framework/domain once (unique-domain)', () => {
    const review = buildEvent('health.health-visitor-review.completed');
    const stay = { framework: 'ecm', domain: 'stay-safe' };
    expect(issuesOf({ ...review, outcomeDomains: [stay, { framework: 'sos', domain: 'safety' }] })).toEqual(
      [],
    );
    expect(issuesOf({ ...review, outcomeDomains: [stay, stay] })).toEqual(['outcomeDomains unique-domain']);
    expect(issuesOf({ ...review, outcomeDomains: [] })).toEqual(['outcomeDomains min-items']);
    const many = Array.from({ length: 11 }, (_, i) => ({ framework: 'ecm', domain: `d${i}` }));
    expect(issuesOf({ ...review, outcomeDomains: many })).toEqual(['outcomeDomains max-items']);
    expect(issuesOf({ ...review, outcomeDomains: [{ framework: 'ECM', domain: 'stay-safe' }] })).toEqual([
      'outcomeDomains.0.framework pattern',
    ]);
  });

  it.each([
    'health.immunisation.given',
    'health.birth.notified',
    'health.newborn-hearing-screening.completed',
    'health.newborn-blood-spot.screened',
    'health.nipe.completed',
    'education.enrolment.recorded',
    'education.attendance.summarised',
    'education.sen-provision.changed',
    'education.ehc-plan.issued',
    'education.eyfs-profile.assessed',
    'education.key-stage.assessed',
  ] as const)('takes an optional narrative on %s', (type) => {
    const event = buildEvent(type);
    expect(issuesOf(withData(event, { narrative: 'Synthetic: what the practitioner would add.' }))).toEqual(
      [],
    );
    expect(issuesOf(withData(event, { narrative: '  ' }))).toEqual(['data.narrative min-length']);
  });

  it('takes a version 1 attendance summary with a narrative, and upcasting keeps it', () => {
    const v1 = buildEvent('education.attendance.summarised', {
      schemaVersion: 1,
      data: { sessionsPossible: 100, authorisedAbsence: 4, unauthorisedAbsence: 6 },
    });
    const { sessionsAttended: _, ...data } = v1.data as typeof v1.data & { sessionsAttended?: number };
    expect(issuesOf({ ...v1, data: { ...data, narrative: 'Synthetic: ill in November.' } })).toEqual([]);
  });

  it('takes a decision with expected outcomes (0-10, each with what to look for) and the team holding its review', () => {
    expect(issuesOf(decision)).toEqual([]);
    expect(issuesOf(withData(decision, { expectedOutcomes: [] }))).toEqual([]);
    expect(
      issuesOf(withData(decision, { expectedOutcomes: [{ framework: 'ecm', domain: 'stay-safe' }] })),
    ).toEqual(['data.expectedOutcomes.0.lookFor required']);
    const eleven = Array.from({ length: 11 }, (_, i) => ({
      framework: 'ecm',
      domain: `d${i}`,
      lookFor: 'x',
    }));
    expect(issuesOf(withData(decision, { expectedOutcomes: eleven }))).toEqual([
      'data.expectedOutcomes max-items',
    ]);
    expect(issuesOf(withData(decision, { team: '' }))).toEqual(['data.team min-length']);
  });

  describe('practice.decision.reviewed', () => {
    const review = buildEvent('practice.decision.reviewed');

    it('accepts the builder sample from any agency, and about an unborn child', () => {
      expect(issuesOf(review)).toEqual([]);
      const { dateOfBirth: _, ...subject } = review.subject;
      expect(issuesOf({ ...review, subject: { ...subject, expectedDateOfBirth: daysAgo(-30) } })).toEqual([]);
    });

    it('needs the decision it reviews by its eventId', () => {
      expect(issuesOf(withData(review, { decisionId: 'decision-1' }))).toEqual([
        'data.decisionId format:uuid',
      ]);
      expect(issuesOf(withData(review, { decisionId: undefined }))).toEqual(['data.decisionId required']);
    });

    it('needs what happened, and judges each expected outcome with the code list', () => {
      expect(issuesOf(withData(review, { whatHappened: undefined }))).toEqual(['data.whatHappened required']);
      const againstExpected = [
        { framework: 'ecm', domain: 'stay-safe', finding: 'Calmer.', judgement: 'good' },
      ];
      expect(issuesOf(withData(review, { againstExpected }))).toEqual([
        'data.againstExpected.0.judgement one-of',
      ]);
    });

    it('needs the revised decision when revised (required-when-revised)', () => {
      expect(issuesOf(withData(review, { outcome: 'revised' }))).toEqual([
        'data.revisedDecision required-when-revised',
      ]);
      expect(
        issuesOf(withData(review, { outcome: 'revised', revisedDecision: 'Step down to CIN.' })),
      ).toEqual([]);
    });

    it('refuses a revised decision when the decision was not revised (only-when-revised)', () => {
      expect(issuesOf(withData(review, { outcome: 'continued', revisedDecision: 'Step down.' }))).toEqual([
        'data.revisedDecision only-when-revised',
      ]);
    });

    it('needs a next review date unless the decision ended (required-unless-ended)', () => {
      expect(issuesOf(withData(review, { nextReviewDate: undefined }))).toEqual([
        'data.nextReviewDate required-unless-ended',
      ]);
      expect(issuesOf(withData(review, { outcome: 'ended', nextReviewDate: undefined }))).toEqual([]);
    });

    it('refuses a next review date before the review (not-before-reviewedOn), allows one in the future', () => {
      expect(issuesOf(withData(review, { reviewedOn: daysAgo(3), nextReviewDate: daysAgo(5) }))).toEqual([
        'data.nextReviewDate not-before-reviewedOn',
      ]);
      expect(issuesOf(withData(review, { nextReviewDate: daysAgo(-365) }))).toEqual([]);
      expect(issuesOf(withData(review, { reviewedOn: daysAgo(-3) }))).toEqual([
        'data.reviewedOn not-in-future',
      ]);
    });

    it('needs who reviewed it, with agency and optional team', () => {
      expect(issuesOf(withData(review, { reviewedBy: { role: 'team manager' } }))).toEqual([
        'data.reviewedBy.agency required',
      ]);
    });
  });

  describe('practice.views.differ', () => {
    const differ = buildEvent('practice.views.differ');

    it('accepts the builder sample, and a record naming no framework', () => {
      expect(issuesOf(differ)).toEqual([]);
      expect(issuesOf(withData(differ, { framework: undefined, domain: undefined }))).toEqual([]);
    });

    it('names a domain only within its framework (required-with-domain)', () => {
      expect(issuesOf(withData(differ, { framework: undefined }))).toEqual([
        'data.framework required-with-domain',
      ]);
    });

    it('refers to 1-20 entries by eventId, each once (unique-event-id)', () => {
      const id = differ.data.about[0];
      expect(issuesOf(withData(differ, { about: [id, id] }))).toEqual(['data.about unique-event-id']);
      expect(issuesOf(withData(differ, { about: [] }))).toEqual(['data.about min-items']);
      expect(issuesOf(withData(differ, { about: ['not-an-id'] }))).toEqual(['data.about.0 format:uuid']);
    });

    it('needs 2-10 views', () => {
      expect(issuesOf(withData(differ, { views: differ.data.views.slice(0, 1) }))).toEqual([
        'data.views min-items',
      ]);
    });

    it('needs the views to come from different perspectives, roles or agencies (distinct-views)', () => {
      const view = { perspective: 'professional', role: 'Social worker', agency: 'social-care', view: 'A.' };
      const same = [view, { ...view, role: 'social worker', view: 'B.' }];
      expect(issuesOf(withData(differ, { views: same }))).toEqual(['data.views distinct-views']);
      const twoAgencies = [view, { ...view, agency: 'early-help', view: 'B.' }];
      expect(issuesOf(withData(differ, { views: twoAgencies }))).toEqual([]);
    });

    it('needs who recorded it', () => {
      expect(issuesOf(withData(differ, { recordedBy: undefined }))).toEqual(['data.recordedBy required']);
    });
  });
});
