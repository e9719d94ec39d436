import { upcast, type AgencyEvent } from '@throughline/contracts';
import {
  buildAttendanceSummarised,
  buildEnrolmentRecorded,
  buildImmunisationGiven,
  buildOutcomeObservationRecorded,
  buildReferralReceived,
  storedEvent,
} from '@throughline/testing';
import { prepareAnalysisBatch } from './apply-batch';
import { Pseudonymiser } from './cut';
import { characteristicsOf, checkColumnValues, factOf } from './facts';

const pseudonymiser = new Pseudonymiser('analysis-facts-unit-key-0123456789');

/** An event the recorder never accepted, appended with its lineage (decision 034's residual case). */
const forged = (event: AgencyEvent, data: Record<string, unknown>) =>
  storedEvent({ ...event, data: { ...event.data, ...data } } as AgencyEvent, { byRecorder: true });

const rulesOf = (batch: Awaited<ReturnType<typeof prepareAnalysisBatch>>) =>
  batch.skipped.map((skipped) => [skipped.type, skipped.rules]);

describe("the analysis model's typed columns", () => {
  it('holds every fact and characteristic of valid events', () => {
    for (const event of [
      buildReferralReceived(),
      buildImmunisationGiven(),
      buildEnrolmentRecorded({ data: { senProvision: 'K' } }),
      buildAttendanceSummarised(),
      buildOutcomeObservationRecorded({
        data: { rating: { scale: 'five-point', value: 4, min: 1, max: 5 } },
      }),
    ].map((event) => upcast(event))) {
      expect(() => checkColumnValues(factOf(event), characteristicsOf(event))).not.toThrow();
    }
  });

  it('names the column a value would be refused by, never the value', () => {
    const referral = buildReferralReceived({ data: { referralDate: '2024-02-30' } });
    expect(() => checkColumnValues(factOf(referral), characteristicsOf(referral))).toThrow(
      'analysis fact onDay: not a day',
    );
    const dose = { ...buildImmunisationGiven(), data: { ...buildImmunisationGiven().data, dose: 1.5 } };
    expect(() => checkColumnValues(factOf(dose), characteristicsOf(dose))).toThrow(
      'analysis fact quantity: not a 32-bit integer',
    );
    const enrolment = buildEnrolmentRecorded({ data: { senProvision: 'K', entryDate: '2024-13-02' } });
    expect(() => checkColumnValues({ onDay: '2024-01-01' }, characteristicsOf(enrolment))).toThrow(
      'analysis characteristics senDay: not a day',
    );
    expect(() => checkColumnValues({ onDay: '2024-01-01', rating: Number.NaN }, {})).toThrow(
      'analysis fact rating: not a finite number',
    );
  });
});

describe('an analysis batch of events read as validated at intake (decision 034)', () => {
  it('skips an event whose value the typed columns would refuse, by that event alone, at the contract rule', async () => {
    const valid = buildReferralReceived();
    const batch = await prepareAnalysisBatch(
      [
        forged(buildReferralReceived(), { referralDate: '2024-02-30' }),
        storedEvent(valid, { byRecorder: true, position: 2n }),
        forged(buildImmunisationGiven(), { dose: 2 ** 31 }),
      ],
      pseudonymiser,
    );
    expect(batch.facts.map((fact) => fact.type)).toEqual(['social-care.referral.received']);
    expect(batch.facts[0].fact.onDay).toBe(valid.data.referralDate);
    expect(rulesOf(batch)).toEqual([
      ['social-care.referral.received', [expect.stringMatching(/^data\.referralDate /)]],
      ['health.immunisation.given', [expect.stringMatching(/^data\.dose /)]],
    ]);
  });

  it("keeps a forged event that is not a valid contract when every value fits the columns (the timeline's rule)", async () => {
    const batch = await prepareAnalysisBatch([forged(buildImmunisationGiven(), { dose: 9 })], pseudonymiser);
    expect(batch.skipped).toEqual([]);
    expect(batch.facts.map((fact) => fact.fact.quantity)).toEqual([9]);
  });
});
