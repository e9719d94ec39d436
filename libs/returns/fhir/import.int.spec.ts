import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Pool } from 'pg';
import { type AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore, type RecordedEvent } from '@throughline/event-store';
import { IdentityLinker, migrateIdentity } from '@throughline/identity';
import { createPool } from '@throughline/platform';
import { fhirBundleChunks, fhirResourcesOf, generateCohort } from '@throughline/synthetic';
import {
  allSeeingRequester,
  createTestDatabase,
  everyRecorded,
  importFileOf,
  storeSink as storeSinkOf,
  type TestDatabase,
} from '@throughline/testing';
import { TimelineProjector, TimelineQueries, childKeyOf, migrateTimeline } from '@throughline/timeline';
import { runImport, type EventSink, type ImportFile } from '../importer';
import { fhirImporter } from './import';

/**
 * A synthetic cohort's health records as a FHIR Bundle, imported into a private PostgreSQL
 * event store as the recorder appends (the contract checked first, as the gateway does), then
 * projected by the timeline: the store holds the events with their provenance, a second import
 * of the same records (as XML, another file) adds nothing, and the chronology shows what the
 * record did not hold and the identifier held back from matching.
 */

let database: TestDatabase;
let store: PostgresEventStore;
let pool: Pool;
let linker: IdentityLinker;
let projector: TimelineProjector;
let queries: TimelineQueries;

const cohort = generateCohort({
  seed: 21,
  children: 30,
  startYear: 2008,
  endYear: 2024,
  now: '2025-01-15T00:00:00Z',
});
const resources = fhirResourcesOf(cohort.events, { awkward: true });
const patients = resources.filter((resource) => resource.resourceType === 'Patient');

const fileOf = (name: string, format: 'json' | 'xml'): ImportFile =>
  importFileOf(name, [...fhirBundleChunks(resources, format)].join(''));

/** The gateway's check and the recorder's append, in process: the contract, then the store. */
const storeSink = (): EventSink => storeSinkOf(store);

/** The health records' events in the store (the identity linker writes its own events there too). */
const everything = (): Promise<RecordedEvent[]> => everyRecorded(store, 'health-');

beforeAll(async () => {
  database = await createTestDatabase('tl_fhir_import');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  pool = createPool(database.url);
  await migrateTimeline(pool);
  await migrateIdentity(pool);
  queries = new TimelineQueries(pool);
  linker = new IdentityLinker({ pool, store });
  await linker.start();
  projector = new TimelineProjector({ pool, store, name: 'fhir-import-int', batchSize: 200 });
  await projector.start();
}, 120_000);

afterAll(async () => {
  await projector?.stop();
  await linker?.stop();
  await store?.close();
  await pool?.end();
  await database?.drop();
});

describe('FHIR import into the event store and the timeline', () => {
  let firstPublished = 0;

  it('records every event the Bundle maps to, with its provenance; quarantines and refusals are counted', async () => {
    const file = fileOf('cohort.json', 'json');
    const summary = await runImport(fhirImporter, [file], { system: 'fhir-import' }, storeSink());
    expect(summary).toMatchObject({ state: 'completed', children: patients.length, eventsRejected: 0 });
    expect(summary.eventsPublished).toBeGreaterThan(50);
    expect(summary.quarantined['nhs-number-not-verified']).toBeGreaterThan(0);
    expect(summary.quarantined['nhs-number-check-digit']).toBeGreaterThan(0);
    expect(summary.refusedByRule['patient-not-found']).toBe(1);
    expect(summary.refusedByRule['vaccine-code-not-mapped']).toBeGreaterThan(1);
    firstPublished = summary.eventsPublished;

    const stored = await everything();
    expect(stored).toHaveLength(summary.eventsPublished);
    for (const recorded of stored) {
      const event = recorded.data as AgencyEvent;
      expect(recorded.streamId).toBe(`health-${event.subject.recordId}`);
      expect(event.provenance).toMatchObject({
        kind: 'health-record',
        format: 'fhir-r4',
        fileSha256: file.sha256,
      });
    }
    const mapped = [
      'health.immunisation.given',
      'health.hospital.admitted',
      'health.hospital.discharged',
      'health.emergency-care.attended',
      'health.observation.recorded',
      'health.flag.recorded',
    ];
    const types = new Set(stored.map((recorded) => recorded.type));
    expect(types).toEqual(
      new Set(mapped.filter((type) => cohort.events.some((event) => event.type === type))),
    );
    expect(types.size).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it('adds nothing when the same records come again as XML in another file', async () => {
    const before = await everything();
    const summary = await runImport(
      fhirImporter,
      [fileOf('again.xml', 'xml')],
      { system: 'fhir-import' },
      storeSink(),
    );
    expect(summary).toMatchObject({ state: 'completed', eventsPublished: firstPublished, eventsRejected: 0 });
    const after = await everything();
    expect(after.map((recorded) => recorded.eventId)).toEqual(before.map((recorded) => recorded.eventId));
    // The first provenance stays.
    const json = fileOf('cohort.json', 'json').sha256;
    expect(after.every((recorded) => (recorded.data as AgencyEvent).provenance?.fileSha256 === json)).toBe(
      true,
    );
  }, 120_000);

  it('shows the imported entries in the chronology: where from, what the record did not hold, the identifier held back', async () => {
    const head = await store.headPosition();
    await linker.waitForPosition(head);
    await projector.waitForPosition(head);

    const first = patients[0];
    const timeline = await queries.timelineOf(childKeyOf(`health-${first.id}`), allSeeingRequester());
    expect(timeline.entries.length).toBeGreaterThan(0);
    for (const entry of timeline.entries) {
      expect(entry.imported).toMatchObject({ kind: 'health-record', format: 'fhir-r4' });
      expect(entry.quarantinedIdentifiers).toEqual([{ field: 'nhsNumber', rule: 'nhs-number-not-verified' }]);
    }

    const attended = (await everything())
      .map((recorded) => recorded.data as AgencyEvent)
      .find((event) => event.type === 'health.emergency-care.attended')!;
    const withAttendance = await queries.timelineOf(
      childKeyOf(`health-${attended.subject.recordId}`),
      allSeeingRequester(),
    );
    const entry = withAttendance.entries.find(
      (candidate) => candidate.type === 'health.emergency-care.attended',
    )!;
    expect(entry.notInReturn).toEqual(expect.arrayContaining(['injury', 'discharge', 'safeguardingConcern']));
    expect(entry.summary).toContain('not in the return');
  }, 120_000);
});
