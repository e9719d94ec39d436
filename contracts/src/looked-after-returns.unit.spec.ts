import { buildEvent } from '@throughline/testing';
import { lookedAfterReturnEvents } from './looked-after-returns';
import { daysAgo, issuesOf, withData } from './test-helpers';

const TYPES = lookedAfterReturnEvents.map((schema) => schema.shape.type.value);

/** The event as an SSDA903 import sends it: with its provenance. */
function imported<E extends object>(event: E): E {
  return {
    ...event,
    provenance: {
      kind: 'statutory-return',
      format: 'ssda903',
      collectionYear: '2024-25',
      fileSha256: 'a'.repeat(64),
      location: 'episodes.csv line 7',
    },
  };
}

describe('SSDA903 return contracts (looked-after-returns)', () => {
  it('has ten types, one per table item not yet an event', () => {
    expect(TYPES).toEqual([
      'social-care.uasc-status.recorded',
      'social-care.uasc-status.ceased',
      'social-care.looked-after-outcomes.recorded',
      'social-care.care-leaver.contacted',
      'social-care.adoption-match.recorded',
      'social-care.placement-for-adoption.decided',
      'social-care.placement-for-adoption.reversed',
      'social-care.previous-permanence.recorded',
      'social-care.social-worker.allocated',
      'social-care.social-worker.allocation-ended',
    ]);
  });

  it.each(TYPES)('accepts a valid %s', (type) => {
    expect(issuesOf(buildEvent(type))).toEqual([]);
  });

  it('dates a return-year item by a 31 March', () => {
    const event = buildEvent('social-care.care-leaver.contacted');
    expect(issuesOf(withData(event, { yearEnding: '2024-04-01' }))).toEqual([
      'data.yearEnding collection-year-end',
    ]);
  });

  it('refuses codes outside the YAML lists, naming the field', () => {
    const event = buildEvent('social-care.care-leaver.contacted');
    expect(issuesOf(withData(event, { accommodation: 'B3' }))).toEqual([
      expect.stringMatching(/^data\.accommodation /),
    ]);
    const oc2 = buildEvent('social-care.looked-after-outcomes.recorded');
    expect(issuesOf(withData(oc2, { sdqReason: 'SDQ9' }))).toEqual([
      expect.stringMatching(/^data\.sdqReason /),
    ]);
  });

  it('OC2: an SDQ score or the reason there is none, not both; the score is 0-40', () => {
    const oc2 = buildEvent('social-care.looked-after-outcomes.recorded');
    expect(issuesOf(withData(oc2, { sdqReason: 'SDQ1' }))).toEqual([
      'data.sdqReason exclusive-with-sdqScore',
    ]);
    expect(issuesOf(withData(oc2, { sdqScore: 41 }))).toEqual(['data.sdqScore max']);
  });

  it('OC2 always touches substance misuse and criminal offence data', () => {
    const oc2 = buildEvent('social-care.looked-after-outcomes.recorded');
    expect(issuesOf({ ...oc2, specialCategories: ['mental-health'] })).toEqual([
      'specialCategories special-category-required',
    ]);
  });

  it('AD1: the adopters sex code matches their number; the match is not before the decision', () => {
    const ad1 = buildEvent('social-care.adoption-match.recorded');
    expect(issuesOf(withData(ad1, { numberOfAdopters: 1 }))).toEqual([
      'data.adopterSex matches-numberOfAdopters',
    ]);
    expect(issuesOf(withData(ad1, { matchedDate: daysAgo(400) }))).toEqual([
      'data.matchedDate not-before-decisionDate',
    ]);
  });

  it('previous permanence: an order date may be a year or a month; LA_PERM is an LA code or a country', () => {
    const event = buildEvent('social-care.previous-permanence.recorded');
    expect(issuesOf(withData(event, { orderDate: '2015' }))).toEqual([]);
    expect(issuesOf(withData(event, { orderDate: '2015-13' }))).toEqual(['data.orderDate pattern']);
    expect(issuesOf(withData(event, { arrangedBy: 'SCO' }))).toEqual([]);
    expect(issuesOf(withData(event, { arrangedBy: 'Leeds' }))).toEqual(['data.arrangedBy pattern']);
  });

  it('a social worker allocation cannot end before it started', () => {
    const event = buildEvent('social-care.social-worker.allocation-ended');
    expect(issuesOf(withData(event, { endDate: daysAgo(60) }))).toEqual([
      'data.endDate not-before-startDate',
    ]);
  });

  it('a placement change gives its reason, unless imported from a return without the preceding episode', () => {
    const change = withData(buildEvent('social-care.looked-after-episode.changed'), {
      reasonPlaceChange: undefined,
    });
    expect(issuesOf(change)).toEqual(['data.reasonPlaceChange required-for-placement-change']);
    expect(issuesOf(imported(change))).toEqual([]);
    const legalOnly = withData(buildEvent('social-care.looked-after-episode.changed'), {
      reasonForNewEpisode: 'L',
    });
    expect(issuesOf(imported(legalOnly))).toEqual(['data.reasonPlaceChange only-for-placement-change']);
  });

  it('the end of a period of care gives its start, unless imported (the period began before the return)', () => {
    const ended = withData(buildEvent('social-care.looked-after-episode.ended'), { startDate: undefined });
    expect(issuesOf(ended)).toEqual(['data.startDate required-unless-imported']);
    expect(issuesOf(imported(ended))).toEqual([]);
  });
});
