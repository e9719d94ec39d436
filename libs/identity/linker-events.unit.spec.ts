import { buildAttendanceSummarised, buildImmunisationGiven, storedEvent } from '@throughline/testing';
import type { AgencyEvent } from '@throughline/contracts';
import type { RecordedEvent } from '@throughline/event-store';
import { changeOf, stepOf } from './linker-events';
import type { KnownSubject } from './linker-state';

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

describe('changeOf: what an event changes about who its record is', () => {
  const record = { recordId: 'MIS-100001-000042', upn: 'A950000178301' };
  const event = (occurredAt: string, sex: string) =>
    buildAttendanceSummarised({ occurredAt, subject: { ...record, sex } }) as AgencyEvent;
  const fold = (...events: AgencyEvent[]) =>
    events.reduce<KnownSubject | undefined>((before, next) => changeOf(before, next).subject, undefined);

  it('takes a sex code of the 2024-25 list meaning what the 2023-24 code meant as the same who (decision 038)', () => {
    const before = fold(event('2024-03-20T09:00:00.000Z', '2'));
    const change = changeOf(before, event('2024-07-19T10:00:00.000Z', 'F'));
    expect(change.change).toBe('seen');
    expect(change.keys).toEqual([]);
    // The snapshot written holds what the latest event said.
    expect(change.subject.snapshot).toMatchObject({ sex: 'F', observedAt: '2024-07-19T10:00:00.000Z' });
    expect(changeOf(before, event('2024-07-19T10:00:00.000Z', 'M')).change).toBe('identity');
    expect(
      changeOf(fold(event('2024-03-20T09:00:00.000Z', '0')), event('2024-07-19T10:00:00.000Z', 'U')).change,
    ).toBe('seen');
  });

  it('still changes who the record is when anything else about it changes', () => {
    const before = fold(event('2024-03-20T09:00:00.000Z', '2'));
    const moved = buildAttendanceSummarised({
      occurredAt: '2024-07-19T10:00:00.000Z',
      subject: { ...record, sex: 'F', postcode: 'ZZ99 9ZZ' },
    }) as AgencyEvent;
    const change = changeOf(before, moved);
    expect(change.change).toBe('identity');
    expect(change.keys).toEqual(expect.arrayContaining([expect.stringMatching(/^block:district/)]));
  });
});
