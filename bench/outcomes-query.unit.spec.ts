import { parseAgencyEvent } from '@throughline/contracts';
import { BUSY_CHILD_ENTRIES, busyChildEvents } from './outcomes-query';

describe('the busy child of the outcomes query stage', () => {
  const events = busyChildEvents();

  it('is one record with 1,000 events, each a valid contract (the stage would fail on a skipped one)', () => {
    expect(events).toHaveLength(BUSY_CHILD_ENTRIES);
    expect(new Set(events.map((event) => event.subject.recordId)).size).toBe(1);
    const refused = events.flatMap((event) => {
      const parsed = parseAgencyEvent(JSON.parse(JSON.stringify(event)));
      return parsed.ok ? [] : [`${event.type}: ${JSON.stringify(parsed)}`.slice(0, 300)];
    });
    expect(refused).toEqual([]);
  });

  it('holds ratings from three perspectives, decisions and their reviews', () => {
    const count = (type: string) => events.filter((event) => event.type === type).length;
    expect(count('practice.decision.recorded')).toBe(100);
    expect(count('practice.decision.reviewed')).toBe(100);
    expect(count('outcome.observation.recorded')).toBe(800);
  });
});
