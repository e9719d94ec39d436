import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isValidUpn } from '@throughline/contracts';
import {
  ddmmyyyy,
  lookedAfterHistory,
  rowsForYear,
  ssda903Children,
  SSDA903_COLUMNS,
  SSDA903_FILES,
  SSDA903_TABLE_NAMES,
  writeSsda903Csv,
  writeSsda903Xml,
  type Ssda903Row,
} from './ssda903';
import { returnsSpecsDirectory } from '@throughline/testing';

jest.setTimeout(120_000);

const SPECS = returnsSpecsDirectory();

const rowsOf = (children: number, year = 2025) => {
  const all: Record<string, Ssda903Row[]> = {};
  for (const { rows } of ssda903Children({ seed: 5, children, year }))
    for (const [table, list] of Object.entries(rows)) (all[table] ??= []).push(...list);
  return all;
};

describe('synthetic SSDA903 return', () => {
  it('has the tables and columns of the column specification (SSDA903_schema_2024.yml), in its order', () => {
    const spec = parseYaml(readFileSync(join(SPECS, 'SSDA903_schema_2024.yml'), 'utf8')) as {
      column_map: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(spec.column_map).sort()).toEqual([...SSDA903_TABLE_NAMES].sort());
    for (const table of SSDA903_TABLE_NAMES)
      expect([table, [...SSDA903_COLUMNS[table]]]).toEqual([table, Object.keys(spec.column_map[table])]);
  });

  it('is a pure function of its options; a child’s history does not depend on the year written', () => {
    expect(JSON.stringify(rowsOf(40))).toBe(JSON.stringify(rowsOf(40)));
    expect(lookedAfterHistory(5, 7, 2025)).toEqual(lookedAfterHistory(5, 7, 2025));
    const history = lookedAfterHistory(5, 7, 2025);
    expect(rowsForYear(history, 2024).Header?.[0].CHILD ?? history.id).toBe(history.id);
  });

  it('has the awkward cases of real files: most UPNs fail their check letter, some lower case, some UN1-UN5', () => {
    const upns = rowsOf(400).Header.map((row) => row.UPN);
    const unknown = upns.filter((upn) => /^UN[1-5]$/.test(upn));
    const reported = upns.filter((upn) => !/^UN\d$/.test(upn));
    const failing = reported.filter((upn) => !isValidUpn(upn.toUpperCase()));
    expect(failing.length / reported.length).toBeGreaterThan(0.6);
    expect(reported.some((upn) => upn !== upn.toUpperCase() && isValidUpn(upn.toUpperCase()))).toBe(true);
    expect(unknown.length).toBeGreaterThan(0);
  });

  it('places 16- and 17-year-olds in registered supported accommodation (K3) from 2024-25 only, and changes placements with the reason on the row that ended', () => {
    const all = rowsOf(400);
    const k3 = all.Episodes.filter((row) => row.PLACE === 'K3');
    expect(k3.length).toBeGreaterThan(0);
    const dobOf = new Map(all.Header.map((row) => [row.CHILD, row.DOB]));
    const iso = (date: string) => date.split('/').reverse().join('-');
    for (const row of k3) {
      const [by, bm, bd] = iso(dobOf.get(row.CHILD)!).split('-').map(Number);
      const [y, m, d] = iso(row.DECOM).split('-').map(Number);
      const age = y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
      expect(age).toBeGreaterThanOrEqual(16);
      expect(iso(row.DECOM) >= '2024-04-01').toBe(true);
    }
    const changes = all.Episodes.filter((row) => row.REC === 'X1' && row.REASON_PLACE_CHANGE !== '');
    expect(changes.length).toBeGreaterThan(0);
    expect(all.Missing.length).toBeGreaterThan(0);
    expect(all.Missing.some((row) => row.MIS_END === '')).toBe(true);
  });

  it('plants an impossible date on a review row of one child in badDateEvery', () => {
    const reviews = rowsOf(200).Reviews;
    expect(reviews.filter((row) => row.REVIEW === '31/02/2025').length).toBeGreaterThan(0);
    const none: Ssda903Row[] = [];
    for (const { rows } of ssda903Children({ seed: 5, children: 200, year: 2025, badDateEvery: 0 }))
      none.push(...(rows.Reviews ?? []));
    expect(none.some((row) => row.REVIEW.startsWith('31/02/'))).toBe(false);
  });

  it('writes 10,000 children as CSV tables and as XML (child by child; the bench measures the memory)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-ssda903-w-'));
    try {
      const written = await writeSsda903Csv(dir, { seed: 1, children: 10_000, year: 2025 });
      expect(written.children).toBe(10_000);
      expect(written.rows.Header).toBe(10_000);
      const header = readFileSync(join(dir, SSDA903_FILES.Header), 'utf8').trimEnd().split('\n');
      expect(header).toHaveLength(10_001);
      const xml = await writeSsda903Xml(join(dir, 'return.xml'), { seed: 1, children: 10_000, year: 2025 });
      expect(xml.children).toBe(10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes dates as dd/mm/yyyy', () => {
    expect(ddmmyyyy('2024-03-07')).toBe('07/03/2024');
    expect(ddmmyyyy(undefined)).toBe('');
  });
});
