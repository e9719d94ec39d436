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
