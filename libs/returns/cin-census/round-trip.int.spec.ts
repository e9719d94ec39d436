import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { validateXML } from 'xmllint-wasm';
import { type AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore, type RecordedEvent } from '@throughline/event-store';
import { cinCensusChunks, PLANTED } from '@throughline/synthetic';
import {
  createTestDatabase,
  everyRecorded,
  importFileOf,
  storeSink as storeSinkOf,
  type TestDatabase,
  returnsSpecsDirectory,
} from '@throughline/testing';
import { runImport, type EventSink, type ImportFile, type ImportItem } from '../importer';
import { exportCinCensus } from './export';
import { cinCensusImporter } from './import';

/**
 * The round trip: a synthetic CIN census → the importer → a private PostgreSQL event store,
 * appended as the recorder appends (the contract checked first, as the gateway does) → the
 * exporter, for the same year → valid against the XSD, and imported again it gives the same
 * children, the same records (the same deterministic event ids) and the same data. What cannot
 * come back is listed in README.md beside this file.
 */

const SPECS = returnsSpecsDirectory();
const CHILDREN = 160;

let database: TestDatabase;
let store: PostgresEventStore;

const fileOf = (name: string, text: string): ImportFile => importFileOf(name, text);

const storeSink = (): EventSink => storeSinkOf(store);

const everything = (): Promise<RecordedEvent[]> => everyRecorded(store, 'social-care-');

async function itemsOf(file: ImportFile): Promise<ImportItem[]> {
  const items: ImportItem[] = [];
  for await (const item of cinCensusImporter.read([file], { system: 'cin-census' })) items.push(item);
  return items;
}

const eventsOf = (items: readonly ImportItem[]) =>
  items.flatMap((item) => (item.kind === 'event' ? [item.event as AgencyEvent] : []));

beforeAll(async () => {
  database = await createTestDatabase('tl_cin_round_trip');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
}, 120_000);

afterAll(async () => {
  await store?.close();
  await database?.drop();
});

describe('CIN census round trip through the event store', () => {
  const census = [
    ...cinCensusChunks({ children: CHILDREN, collectionYear: '2023-24', laCode: '926', seed: 'round-trip' }),
  ].join('');
  const original = fileOf('cin-2023-24.xml', census);
  let exported = '';

  it('imports every child into the store, each event with its provenance; only the planted dates out of order are refused', async () => {
    const summary = await runImport(cinCensusImporter, [original], { system: 'cin-census' }, storeSink());
    expect(summary).toMatchObject({ state: 'completed', children: CHILDREN, eventsRejected: 0 });
    const planted = Array.from({ length: CHILDREN }, (_, index) => index).filter(PLANTED.datesOutOfOrder);
    expect(summary.refusedByRule).toEqual({ 'not-before-startDate': planted.length });
    expect(summary.quarantined['upn-check-letter']).toBeGreaterThan(0);
    const stored = await everything();
    expect(stored).toHaveLength(summary.eventsPublished);
    for (const recorded of stored) {
      expect((recorded.data as AgencyEvent).provenance).toMatchObject({
        format: 'cin-census',
        collectionYear: '2023-24',
        fileSha256: original.sha256,
      });
    }
  });

  it('importing the same return again adds nothing', async () => {
    const before = (await everything()).length;
    const summary = await runImport(cinCensusImporter, [original], { system: 'cin-census' }, storeSink());
    expect(summary.eventsRejected).toBe(0);
    expect((await everything()).length).toBe(before);
  });

  it('exports the same year from the store, valid against the XSD, streamed child by child', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
    const written = await exportCinCensus(await everything(), { laCode: '926', year: 2024 }, out);
    out.end();
    exported = chunks.join('');
    expect(chunks.length).toBeGreaterThan(CHILDREN);
    expect(written.children).toBe(CHILDREN);
    const schema = await readFile(resolve(SPECS, 'CIN_schema_2024.xsd'), 'utf8');
    const result = await validateXML({
      xml: [{ fileName: 'exported.xml', contents: exported }],
      schema: [{ fileName: 'CIN_schema_2024.xsd', contents: schema }],
    });
    expect(result.errors).toEqual([]);
  });

  it('gives back the same children and records, with the same data', async () => {
    const first = eventsOf(await itemsOf(original));
    const again = await itemsOf(fileOf('exported.xml', exported));
    expect(again.filter((item) => item.kind === 'refused')).toEqual([]);
    const second = eventsOf(again);
    const children = (events: AgencyEvent[]) => new Set(events.map((event) => event.subject.laChildId));
    expect(children(second)).toEqual(children(first));
    const byId = new Map(second.map((event) => [event.eventId, event]));
    // Named by type and element, so a record that does not come back says which it is.
    const missing = first
      .filter((event) => !byId.has(event.eventId))
      .map((event) => `${event.type} ${event.provenance?.location}`);
    expect(missing).toEqual([]);
    expect(byId.size).toBe(first.length);
    for (const event of first) {
      const back = byId.get(event.eventId)!;
      expect({ type: back.type, occurredAt: back.occurredAt, data: back.data }).toEqual({
        type: event.type,
        occurredAt: event.occurredAt,
        data: event.data,
      });
      // Identifiers come back; a quarantined UPN comes back upper-cased (README: lower-case UPNs).
      const identifiers = (subject: AgencyEvent['subject']) => ({
        ...subject,
        quarantinedIdentifiers: subject.quarantinedIdentifiers?.map((held) => ({
          ...held,
          value: held.value.toUpperCase(),
        })),
      });
      expect(identifiers(back.subject)).toEqual(identifiers(event.subject));
    }
  });

  it('puts in next year’s return only the children with an episode still open, and none in an earlier year', async () => {
    const stored = (await everything()).map((recorded) => recorded.data as AgencyEvent);
    const closed = new Set(
      stored.filter((event) => event.type === 'social-care.case.closed').map((event) => event.correlationId),
    );
    const open = new Set(
      stored
        .filter((event) => event.type === 'social-care.referral.received' && !closed.has(event.eventId))
        .map((event) => event.subject.laChildId),
    );
    expect(open.size).toBeGreaterThan(0);
    expect(open.size).toBeLessThan(CHILDREN);
    const next = new PassThrough();
    next.resume();
    expect(
      (
        await exportCinCensus(
          stored.map((data) => ({ type: data.type, data }) as RecordedEvent),
          { laCode: '926', year: 2025 },
          next,
        )
      ).children,
    ).toBe(open.size);
    const earlier = new PassThrough();
    earlier.resume();
    expect(await exportCinCensus(await everything(), { laCode: '926', year: 2020 }, earlier)).toEqual({
      children: 0,
      records: 0,
    });
    // Another LA's return holds none of them.
    expect((await exportCinCensus(await everything(), { laCode: '927', year: 2024 }, earlier)).children).toBe(
      0,
    );
  });
});
