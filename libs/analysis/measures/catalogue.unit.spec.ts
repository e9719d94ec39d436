import { GROUP_BY, MEASURES, PERIODS } from '@throughline/analysis';
import { EVENT_TYPE_AGENCY } from '@throughline/contracts';
import { UNITS_SQL } from './units';

describe('the measure catalogue', () => {
  it('defines each measure once, with its units, known event types, groupings and periods', () => {
    expect(new Set(MEASURES.map((m) => m.id)).size).toBe(MEASURES.length);
    expect(Object.keys(UNITS_SQL).sort()).toEqual(MEASURES.map((m) => m.id).sort());
    for (const measure of MEASURES) {
      expect(measure.eventTypes.every((type) => type in EVENT_TYPE_AGENCY)).toBe(true);
      expect(measure.groupBy.every((dimension) => GROUP_BY.includes(dimension))).toBe(true);
      expect(measure.periods.length).toBeGreaterThan(0);
      expect(measure.periods.every((period) => PERIODS.includes(period))).toBe(true);
      expect(measure.caveats.length).toBeGreaterThan(0);
    }
  });
});
