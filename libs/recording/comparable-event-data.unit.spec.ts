import { describe, expect, it } from '@jest/globals';
import { comparableEventData } from './recorder';

describe('comparableEventData', () => {
  const fact = { eventId: 'e1', type: 'social-care.referral.received', data: { referralDate: '2023-05-02' } };
  const provenance = (year: string) => ({
    kind: 'statutory-return',
    format: 'cin-census',
    collectionYear: year,
  });

  it('compares an imported event without where and when it was read, or the subject as that file reported it', () => {
    const lastYear = {
      ...fact,
      subject: { recordId: 'la991-C1', quarantinedIdentifiers: [{ field: 'upn' }] },
      provenance: provenance('2023-24'),
    };
    const thisYear = {
      ...fact,
      subject: { recordId: 'la991-C1', upn: 'A123' },
      provenance: provenance('2024-25'),
    };
    expect(comparableEventData(thisYear)).toEqual(comparableEventData(lastYear));
    const corrected = { ...thisYear, data: { referralDate: '2023-05-03' } };
    expect(comparableEventData(corrected)).not.toEqual(comparableEventData(lastYear));
  });

  it('compares an event recorded as it happened whole, subject included', () => {
    const sent = { ...fact, subject: { recordId: 'r1', nhsNumber: '9434765919' } };
    expect(comparableEventData(sent)).toBe(sent);
  });
});
