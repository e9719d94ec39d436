import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import { type AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore, type RecordedEvent } from '@throughline/event-store';
import {
  SSDA903_FILES,
  SSDA903_TABLE_NAMES,
  writeSsda903Csv,
  type Ssda903Table,
} from '@throughline/synthetic';
import {
  createTestDatabase,
  everyRecorded,
  storeSink as storeSinkOf,
  type TestDatabase,
  returnsSpecsDirectory,
} from '@throughline/testing';
import { fileOnDisk, runImport, type EventSink } from '../importer';
import { exportSsda903 } from './export';
import { ssda903Importer } from './import';

/**
 * The round trip: a synthetic SSDA903 return (CSV tables) → the importer → a private
 * PostgreSQL event store, appended as the recorder appends (the contract checked first, as
 * the gateway does) → the exporter, for the same year → the same children and rows, every
 * column as the column specification (SSDA903_schema_2024.yml) allows. What cannot come back
 * is listed in README.md beside this file, and normalised below with the reason.
 */

const SPECS = returnsSpecsDirectory();
const LA = '926';
const YEAR = 2025;
const CHILDREN = 120;

let database: TestDatabase;
let store: PostgresEventStore;
let dir: string;

const storeSink = (): EventSink => storeSinkOf(store, 'social-care');

const everything = (): Promise<RecordedEvent[]> => everyRecorded(store);

async function* streamed(events: readonly RecordedEvent[]): AsyncIterable<RecordedEvent> {
  yield* events;
}

type Row = Record<string, string>;
const readTable = (folder: string, table: Ssda903Table): Row[] =>
  parseCsv(readFileSync(join(folder, SSDA903_FILES[table]), 'utf8'), {
    columns: true,
    skip_empty_lines: true,
  }) as Row[];

/** Columns no contract holds (see README): blank in the export whatever the return said. */
const NOT_HELD: Partial<Record<Ssda903Table, readonly string[]>> = {
  Header: ['MOTHER', 'MC_DOB'],
  Episodes: ['HOME_POST', 'PL_POST', 'URN'],
};

/** The original rows as the export can give them back (each normalisation is a README item). */
function expected(table: Ssda903Table, rows: Row[]): Row[] {
  let out = rows.map((row) => {
    const copy = { ...row };
    for (const column of NOT_HELD[table] ?? []) copy[column] = '';
    // UPNs are upper-cased on import.
    if (table === 'Header') copy.UPN = copy.UPN.toUpperCase();
    return copy;
  });
  if (table === 'Reviews') out = out.filter((row) => !row.REVIEW.startsWith('31/02/')); // refused on import
  if (table === 'Episodes') {
    // CIN is held on the start of a period: a period begun before the return has none to give back.
    const started = new Set<string>();
    out = out.map((row) => {
      if (row.RNE === 'S') started.add(row.CHILD);
      return started.has(row.CHILD) ? row : { ...row, CIN: '' };
    });
  }
  return out;
}

const key = (row: Row) =>
  JSON.stringify(
    Object.keys(row)
      .sort()
      .map((column) => [column, row[column]]),
  );

beforeAll(async () => {
  database = await createTestDatabase('tl_ssda903_round_trip');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  dir = mkdtempSync(join(tmpdir(), 'tl-ssda903-rt-'));
  mkdirSync(join(dir, 'in'));
  mkdirSync(join(dir, 'out'));
  await writeSsda903Csv(join(dir, 'in'), { seed: 903, children: CHILDREN, year: YEAR });
}, 120_000);

afterAll(async () => {
  await store?.close();
  await database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('SSDA903 round trip through the event store', () => {
  const files = () =>
    Promise.all(readdirSync(join(dir, 'in')).map((name) => fileOnDisk(join(dir, 'in', name))));
  const context = { system: 'ssda903', laCode: LA, collectionYear: '2024-25' };

  it('imports every child into the store with provenance; only the planted impossible dates are refused', async () => {
    const summary = await runImport(ssda903Importer, await files(), context, storeSink());
    expect(summary).toMatchObject({ state: 'completed', children: CHILDREN, eventsRejected: 0 });
    expect(Object.keys(summary.refusedByRule)).toEqual(['date-format']);
    expect(summary.quarantined['upn-check-letter']).toBeGreaterThan(CHILDREN / 2);
    const stored = await everything();
    expect(stored).toHaveLength(summary.eventsPublished);
    for (const recorded of stored)
      expect((recorded.data as AgencyEvent).provenance).toMatchObject({
        format: 'ssda903',
        collectionYear: '2024-25',
      });
  }, 120_000);

  it('importing the same return again adds nothing', async () => {
    const before = (await everything()).length;
    const summary = await runImport(ssda903Importer, await files(), context, storeSink());
    expect(summary.eventsRejected).toBe(0);
    expect((await everything()).length).toBe(before);
  }, 120_000);

  it('exports the same year with the same children and rows, table by table', async () => {
    const written = await exportSsda903(
      streamed(await everything()),
      { laCode: LA, year: YEAR },
      join(dir, 'out'),
    );
    expect(written.children).toBe(CHILDREN);
    for (const table of SSDA903_TABLE_NAMES) {
      const original = expected(table, readTable(join(dir, 'in'), table))
        .map(key)
        .sort();
      const exported = readTable(join(dir, 'out'), table).map(key).sort();
      expect([table, original.length > 0]).toEqual([table, true]);
      expect([table, exported]).toEqual([table, original]);
    }
  }, 120_000);

  it('writes every column as the column specification allows: its columns, codes from its lists, dates as dd/mm/yyyy', () => {
    const spec = parseYaml(readFileSync(join(SPECS, 'SSDA903_schema_2024.yml'), 'utf8')) as {
      column_map: Record<
        string,
        Record<
          string,
          { category?: { code: unknown }[]; date?: string; numeric?: string; canbeblank?: boolean }
        >
      >;
    };
    // Codes later than the YAML (2023-24): K3 from 2024-25, sex M/F/U from 2024-25 (CODE-LISTS.md).
    const later: Record<string, readonly string[]> = { PLACE: ['K3'], SEX: ['M', 'F', 'U'] };
    // Blank where the spec says it cannot be: the columns the README lists as not held.
    const blankAllowed = new Set(['Episodes.CIN', 'Header.ETHNIC']);
    for (const table of SSDA903_TABLE_NAMES) {
      const columns = spec.column_map[table];
      const text = readFileSync(join(dir, 'out', SSDA903_FILES[table]), 'utf8');
      expect([table, text.split('\n')[0].split(',')]).toEqual([table, Object.keys(columns)]);
      for (const row of parseCsv(text, { columns: true, skip_empty_lines: true }) as Row[]) {
        for (const [column, rule] of Object.entries(columns)) {
          const value = row[column];
          if (value === '') {
            if (
              !rule.canbeblank &&
              !blankAllowed.has(`${table}.${column}`) &&
              !(NOT_HELD[table] ?? []).includes(column)
            )
              throw new Error(`${table}.${column} is blank, the spec says it cannot be`);
            continue;
          }
          if (rule.category) {
            const codes = [
              ...rule.category.map((entry) => String(entry.code).trim()),
              ...(later[column] ?? []),
            ];
            expect([table, column, codes.includes(value)]).toEqual([table, column, true]);
          } else if (rule.date && column !== 'DATE_PERM') {
            expect([table, column, value]).toEqual([
              table,
              column,
              expect.stringMatching(/^\d{2}\/\d{2}\/\d{4}$/),
            ]);
          } else if (rule.date) {
            expect(value).toMatch(/^(\d{2}|zz)\/(\d{2}|zz)\/(\d{4}|zzzz)$/);
          } else if (rule.numeric) {
            expect(value).toMatch(/^\d+$/);
          }
        }
      }
    }
  });
});
