import { buildImmunisationGiven, storedEvent } from '@throughline/testing';
import type { AgencyEvent } from '@throughline/contracts';
import type { RecordedEvent } from '@throughline/event-store';
import { stepOf } from './linker-events';

/** The event as the store gives it back: with the recorder's lineage, or as another writer left it. */
const stored = (event: unknown, lineage: 'recorder' | 'none'): RecordedEvent =>
  storedEvent(event as AgencyEvent, { byRecorder: lineage === 'recorder' });

/** Refused by its contract (a sixth dose); nothing the linker reads. */
const sixthDose = () => {
  const event = buildImmunisationGiven();
  return { ...event, data: { ...event.data, dose: 9 } };
};

describe('stepOf: agency events the recorder appended are taken as validated at intake (decision 034)', () => {
  it('links a valid event alike with the recorder lineage and without', () => {
    const event = buildImmunisationGiven();
    expect(stepOf(stored(event, 'recorder'))).toMatchObject({ kind: 'agency', event });
    expect(stepOf(stored(event, 'none'))).toMatchObject({ kind: 'agency', event });
  });

  it('takes an event with the recorder lineage as written, and validates and skips one without it', () => {
    expect(stepOf(stored(sixthDose(), 'recorder')).kind).toBe('agency');
    expect(stepOf(stored(sixthDose(), 'none')).kind).toBe('skipped');
  });

  it('validates an event with the recorder lineage whose subject the linker cannot read, and skips it', () => {
    const warnings: string[] = [];
    const logger = { warn: (message: string) => warnings.push(message) } as never;
    const event = { ...buildImmunisationGiven(), subject: { recordId: 'chs-1', name: 'Ada Lovelace' } };
    expect(stepOf(stored(event, 'recorder'), logger).kind).toBe('skipped');
    expect(warnings).toEqual([expect.stringContaining('not a valid contract')]);
  });
});
