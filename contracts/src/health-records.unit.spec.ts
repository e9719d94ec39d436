import { buildEvent } from '@throughline/testing';
import { daysAgo, issuesOf, withData } from './test-helpers';

const PROVENANCE = {
  kind: 'health-record',
  format: 'fhir-r4',
  fileSha256: 'a'.repeat(64),
  location: 'Bundle.entry[3] (Immunization/imm-1)',
} as const;

describe('health record contracts', () => {
  it.each(['health.observation.recorded', 'health.flag.recorded'] as const)('accepts a valid %s', (type) => {
    expect(issuesOf(buildEvent(type))).toEqual([]);
  });

  describe('observation', () => {
    const observation = () => buildEvent('health.observation.recorded');

    it('keeps each kind of value as a value, and refuses one of no known kind', () => {
      for (const value of [
        { kind: 'quantity', value: 98 },
        { kind: 'coded', code: { system: 'http://snomed.info/sct', code: '260385009', display: 'Negative' } },
        { kind: 'boolean', value: false },
        { kind: 'text', value: 'Settled at the examination' },
      ])
        expect(issuesOf(withData(observation(), { value }))).toEqual([]);
      expect(issuesOf(withData(observation(), { value: { kind: 'ratio', value: '1:2' } }))).toEqual([
        'data.value.kind known-event-type',
      ]);
    });

    it('an observation may have components and no value (a blood pressure), or neither (a coded finding)', () => {
      const reading = (code: string, value: number) => ({
        code: { system: 'http://snomed.info/sct', code },
        value: { kind: 'quantity', value, unit: 'mmHg' },
      });
      expect(
        issuesOf(
          withData(observation(), {
            value: undefined,
            components: [reading('271649006', 98), reading('271650006', 60)],
          }),
        ),
      ).toEqual([]);
      expect(issuesOf(withData(observation(), { value: undefined }))).toEqual([]);
    });

    it('effectiveAt falls on effectiveDate; neither in the future; codes have a system and a code', () => {
      const day = daysAgo(2);
      expect(
        issuesOf(withData(observation(), { effectiveDate: day, effectiveAt: `${daysAgo(3)}T10:00:00Z` })),
      ).toEqual(['data.effectiveAt same-day-as-effectiveDate']);
      expect(issuesOf(withData(observation(), { effectiveDate: daysAgo(-3) }))).toEqual([
        'data.effectiveDate not-in-future',
      ]);
      expect(
        issuesOf(withData(observation(), { code: { system: 'http://snomed.info/sct', code: '' } })),
      ).toEqual(['data.code.code min-length']);
      expect(issuesOf(withData(observation(), { status: 'registered' }))).toEqual(['data.status one-of']);
    });
  });

  describe('flag', () => {
    it('a flag ends no earlier than it starts, and is active or inactive', () => {
      const flag = buildEvent('health.flag.recorded');
      expect(issuesOf(withData(flag, { periodStart: daysAgo(10), periodEnd: daysAgo(20) }))).toEqual([
        'data.periodEnd not-before-periodStart',
      ]);
      expect(issuesOf(withData(flag, { status: 'entered-in-error' }))).toEqual(['data.status one-of']);
      // A flag may stand until a date to come; it cannot start in the future.
      expect(issuesOf(withData(flag, { periodEnd: daysAgo(-90) }))).toEqual([]);
      expect(issuesOf(withData(flag, { periodStart: daysAgo(-10), periodEnd: undefined }))).toEqual([
        'data.periodStart not-in-future',
      ]);
    });
  });

  describe('fields a health record does not hold (importOptional)', () => {
    it.each([
      ['health.immunisation.given', ['dose']],
      ['health.hospital.admitted', ['admissionMethod', 'specialty']],
      ['health.hospital.discharged', ['dischargeMethod', 'dischargeDestination']],
      ['health.emergency-care.attended', ['chiefComplaint', 'injury', 'discharge', 'safeguardingConcern']],
    ] as const)('%s may leave out %j only when imported', (type, fields) => {
      const event = buildEvent(type);
      const without = withData(event, Object.fromEntries(fields.map((field) => [field, undefined])));
      expect(issuesOf(without)).toEqual(fields.map((field) => `data.${field} required-unless-imported`));
      expect(issuesOf({ ...without, provenance: PROVENANCE })).toEqual([]);
    });

    it('the died-destination rule still holds when both discharge codes are given', () => {
      const event = buildEvent('health.hospital.discharged');
      expect(
        issuesOf({
          ...withData(event, { dischargeMethod: '4', dischargeDestination: '19' }),
          provenance: PROVENANCE,
        }),
      ).toEqual(['data.dischargeDestination died-destination']);
      expect(
        issuesOf({
          ...withData(event, { dischargeMethod: '4', dischargeDestination: undefined }),
          provenance: PROVENANCE,
        }),
      ).toEqual([]);
    });
  });
});
