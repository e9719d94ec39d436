import { EVENT_TYPES, EVENT_TYPE_AGENCY, parseAgencyEvent } from '@throughline/contracts';
import { buildEvent, buildExclusionRecorded, freshNhsNumber, freshUpn } from './events';
import { isValidNhsNumber, isValidUpn } from '@throughline/contracts';

describe('event builders', () => {
  it.each(EVENT_TYPES)('build a valid %s that its agency may publish', (type) => {
    const event = buildEvent(type);
    const owner = EVENT_TYPE_AGENCY[type];
    const agency = owner === 'any' ? event.source.agency : owner;
    const parsed = parseAgencyEvent(JSON.parse(JSON.stringify(event)), { publishingAgency: agency });
    expect(parsed).toEqual({ ok: true, event });
  });

  it('give fresh ids on every call', () => {
    const [a, b] = [buildEvent('health.immunisation.given'), buildEvent('health.immunisation.given')];
    expect(a.eventId).not.toBe(b.eventId);
    expect(a.subject.recordId).not.toBe(b.subject.recordId);
  });

  it('merge subject and data overrides one level deep', () => {
    const event = buildExclusionRecorded({ data: { sessions: 4 }, subject: { recordId: 'pupil-7' } });
    expect(event.data).toMatchObject({ sessions: 4, category: 'SUSP', reasons: ['DB'] });
    expect(event.subject.recordId).toBe('pupil-7');
    expect(event.subject.upn).toBeDefined();
  });

  it('make identifiers that pass their check algorithms', () => {
    for (let i = 0; i < 50; i++) {
      expect(isValidNhsNumber(freshNhsNumber())).toBe(true);
      expect(isValidUpn(freshUpn())).toBe(true);
    }
  });
});
