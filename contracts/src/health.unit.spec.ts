import { buildEvent } from '@throughline/testing';
import { daysAgo, issuesOf, withData } from './test-helpers';

describe('health contracts', () => {
  it.each([
    'health.birth.notified',
    'health.newborn-hearing-screening.completed',
    'health.newborn-blood-spot.screened',
    'health.nipe.completed',
    'health.hospital.admitted',
    'health.hospital.discharged',
    'health.camhs.referred',
    'health.camhs.discharged',
  ] as const)('accepts a valid %s', (type) => {
    expect(issuesOf(buildEvent(type))).toEqual([]);
  });

  describe('birth notification', () => {
    it('turns the subject into a born child: subject.dateOfBirth must equal the birth date', () => {
      const event = buildEvent('health.birth.notified');
      expect(issuesOf({ ...event, subject: { ...event.subject, dateOfBirth: daysAgo(3) } })).toEqual([
        'subject.dateOfBirth equals-birthDate',
      ]);
      const { dateOfBirth: _, ...unborn } = event.subject;
      expect(issuesOf({ ...event, subject: { ...unborn, expectedDateOfBirth: daysAgo(1) } })).toEqual([
        'subject.dateOfBirth equals-birthDate',
      ]);
    });

    it('bounds gestation and weight, and checks the mother NHS number', () => {
      const event = buildEvent('health.birth.notified');
      expect(issuesOf(withData(event, { gestationWeeks: 52, birthWeightGrams: 12 }))).toEqual([
        'data.gestationWeeks max',
        'data.birthWeightGrams min',
      ]);
      expect(issuesOf(withData(event, { motherNhsNumber: '9434765918', birthTime: '25:00' }))).toEqual([
        'data.birthTime pattern',
        'data.motherNhsNumber nhs-number-check-digit',
      ]);
    });

    it('may give an expected date of birth before the birth (a premature baby)', () => {
      const event = buildEvent('health.birth.notified');
      expect(issuesOf(withData(event, { expectedDateOfBirth: daysAgo(40) }))).toEqual([]);
    });
  });

  describe('newborn hearing screening', () => {
    it('needs both ears for a completed screen, and a clear response in both for no follow-up', () => {
      const event = buildEvent('health.newborn-hearing-screening.completed');
      expect(issuesOf(withData(event, { leftEar: undefined }))).toEqual([
        'data.leftEar required-unless-declined-or-incomplete',
        'data.outcome clear-response-both-ears',
      ]);
      expect(issuesOf(withData(event, { rightEar: 'NCR' }))).toEqual([
        'data.outcome clear-response-both-ears',
      ]);
      expect(issuesOf(withData(event, { rightEar: 'NCR', outcome: 'referred-to-audiology' }))).toEqual([]);
      expect(
        issuesOf(
          withData(event, {
            leftEar: undefined,
            rightEar: undefined,
            outcome: 'declined',
            method: undefined,
          }),
        ),
      ).toEqual([]);
    });
  });

  describe('newborn blood spot', () => {
    it('requires the genetic special category and one result per condition', () => {
      const event = buildEvent('health.newborn-blood-spot.screened');
      const { specialCategories: _, ...unmarked } = event;
      expect(issuesOf(unmarked)).toEqual(['specialCategories required']);
      expect(issuesOf({ ...event, specialCategories: ['ethnicity'] })).toEqual([
        'specialCategories special-category-required',
      ]);
      expect(
        issuesOf(
          withData(event, {
            results: [
              { condition: 'CF', result: 'carrier' },
              { condition: 'CF', result: 'not-suspected' },
            ],
          }),
        ),
      ).toEqual(['data.results unique-condition']);
      expect(issuesOf(withData(event, { results: [{ condition: 'XYZ', result: 'suspected' }] }))).toEqual([
        'data.results.0.condition one-of',
      ]);
    });
  });

  describe('NIPE', () => {
    it('takes findings from its code list and refuses unknown fields', () => {
      const event = buildEvent('health.nipe.completed');
      expect(issuesOf(withData(event, { heart: 'murmur', weight: 3 }))).toEqual([
        'data.heart one-of',
        'data.weight unknown-field',
      ]);
    });
  });

  describe('hospital admission and discharge', () => {
    it('uses the NHS admission method codes', () => {
      expect(issuesOf(withData(buildEvent('health.hospital.admitted'), { admissionMethod: '99' }))).toEqual([
        'data.admissionMethod one-of',
      ]);
    });

    it('refuses a discharge before the admission and a death without destination 79', () => {
      const event = buildEvent('health.hospital.discharged');
      expect(issuesOf(withData(event, { dischargedAt: '2020-01-01T10:00:00Z' }))).toEqual([
        'data.dischargedAt not-before-admittedAt',
      ]);
      expect(issuesOf(withData(event, { dischargeMethod: '4' }))).toEqual([
        'data.dischargeDestination died-destination',
      ]);
    });

    it('refuses an admission in the future and one before birth', () => {
      const event = buildEvent('health.hospital.admitted');
      const future = new Date(Date.now() + 3 * 86_400_000).toISOString();
      expect(issuesOf(withData(event, { admittedAt: future }))).toEqual(['data.admittedAt not-in-future']);
      expect(issuesOf(withData(event, { admittedAt: '2000-01-01T10:00:00Z' }))).toEqual([
        'data.admittedAt not-before-birth',
      ]);
    });
  });

  describe('CAMHS', () => {
    it('always carries the mental-health special category', () => {
      for (const type of ['health.camhs.referred', 'health.camhs.discharged'] as const) {
        const event = buildEvent(type);
        expect(issuesOf({ ...event, specialCategories: ['genetic'] })).toEqual([
          'specialCategories special-category-required',
        ]);
        expect(issuesOf({ ...event, specialCategories: ['genetic', 'mental-health'] })).toEqual([]);
      }
    });

    it('uses the MHSDS referral codes and orders discharge after referral', () => {
      expect(issuesOf(withData(buildEvent('health.camhs.referred'), { primaryReason: '99' }))).toEqual([
        'data.primaryReason one-of',
      ]);
      const discharged = buildEvent('health.camhs.discharged');
      expect(issuesOf(withData(discharged, { referralDate: daysAgo(0), dischargeDate: daysAgo(2) }))).toEqual(
        ['data.dischargeDate not-before-referralDate'],
      );
    });
  });
});
