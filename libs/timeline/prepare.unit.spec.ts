import { buildImmunisationGiven, storedEvent } from '@throughline/testing';
import type { AgencyEvent } from '@throughline/contracts';
import type { RecordedEvent } from '@throughline/event-store';
import { ENTRY_COLUMNS, prepareBatch, prepareEvents } from './prepare';

/** The event as the store gives it back: with the recorder's lineage, or as another writer left it. */
const stored = (event: unknown, lineage: 'recorder' | 'none'): RecordedEvent =>
  storedEvent(event as AgencyEvent, { byRecorder: lineage === 'recorder' });

const valid = () => buildImmunisationGiven();
/** Refused by its contract (a sixth dose), harmless to the timeline's code. */
const sixthDose = () => {
  const event = buildImmunisationGiven();
  return { ...event, data: { ...event.data, dose: 9 } };
};
/** Refused by its contract, and the timeline's code fails on it (the categories are not a list). */
const categoriesNotAList = () => ({ ...buildImmunisationGiven(), specialCategories: 'health' });

const skippedRules = (batch: { skipped: readonly { issues: readonly { path: string; rule: string }[] }[] }) =>
  batch.skipped.flatMap((skipped) => skipped.issues.map((issue) => `${issue.path} ${issue.rule}`));

describe('preparing a batch: events the recorder appended are taken as validated at intake (decision 034)', () => {
  it('builds the entry of a valid event alike with the recorder lineage and without', () => {
    const event = valid();
    const trusted = prepareEvents([stored(event, 'recorder')]);
    const validated = prepareEvents([stored(event, 'none')]);
    expect(trusted.entries).toBe(1);
    expect(validated.entries).toBe(1);
    // Every column but the position and the lineage (which says who wrote it).
    const columns = (batch: typeof trusted) =>
      Buffer.from(batch.entryCopy!)
        .toString('utf8')
        .split('\t')
        .filter((_, column) => !['position', 'lineage'].includes(ENTRY_COLUMNS[column]));
    expect(columns(trusted)).toEqual(columns(validated));
    expect(trusted.items).toEqual(validated.items);
  });

  it('validates an event without the recorder lineage, and skips it at the field and the rule', () => {
    const batch = prepareEvents([stored(sixthDose(), 'none'), stored(valid(), 'none')]);
    expect(batch.entries).toBe(1);
    expect(skippedRules(batch)).toEqual(['data.dose max']);
  });

  it('takes an event with the recorder lineage as written, on the thread and on the event loop alike', async () => {
    const batch = prepareEvents([stored(sixthDose(), 'recorder')]);
    expect(batch.entries).toBe(1);
    expect(batch.skipped).toEqual([]);
    const onTheLoop = await prepareBatch([stored(sixthDose(), 'recorder'), stored(sixthDose(), 'none')]);
    expect(onTheLoop.entries).toBe(1);
    expect(skippedRules(onTheLoop)).toEqual(['data.dose max']);
  });

  it('validates an event with the recorder lineage that the timeline fails on, and skips it if it is not a valid contract', () => {
    const batch = prepareEvents([stored(categoriesNotAList(), 'recorder'), stored(valid(), 'recorder')]);
    expect(batch.entries).toBe(1);
    expect(skippedRules(batch)).toEqual(['specialCategories type:array']);
  });
});
