import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAccessPolicy } from '@throughline/access';
import { toCsv, wantsCsv } from './csv';
import { flowRowsOf } from './governance-reports';

const demo = parseAccessPolicy(
  JSON.parse(
    readFileSync(join(__dirname, '..', '..', 'infra', 'access-policy.demo.json'), 'utf8'),
  ) as unknown,
);

function counted(...flows: { day: string; agency: string; organisation: string | null; type: string }[]) {
  return new Map(
    flows.map((flow, i) => [
      String(i),
      {
        key: { ...flow, publisher: 'pub' },
        counts: { accepted: 1, rejected: 0, rejectedByRule: {}, deadLettered: 0, redriven: 0 },
      },
    ]),
  );
}

describe('flows per agreement', () => {
  it('lists a flow once per agreement in force that shares its agency, organisation and event category', () => {
    const rows = flowRowsOf(
      demo,
      counted({
        day: '2026-03-02',
        agency: 'health',
        organisation: 'DEMO-CHS',
        type: 'health.immunisation.given',
      }),
    );
    // The statistics agreement shares immunisations with analysts (the analysis model): a flow too.
    expect(rows.map((row) => row.agreement)).toEqual([
      'vale-health-to-childrens-services@1',
      'vale-health-within-health@1',
      'vale-statistics-health@1',
    ]);
    expect(rows[0]).toMatchObject({
      agreementTitle: expect.any(String),
      accepted: 1,
      providingAgency: 'health',
    });
  });

  it('honours an agreement limited to providing organisations, and one not yet in force', () => {
    const rows = flowRowsOf(
      demo,
      counted(
        { day: '2026-03-02', agency: 'health', organisation: 'DEMO-MHT', type: 'health.camhs.referred' },
        { day: '2026-03-02', agency: 'health', organisation: 'DEMO-CHS', type: 'health.camhs.referred' },
        { day: '2026-03-02', agency: 'health', organisation: null, type: 'health.camhs.referred' },
        { day: '2025-12-31', agency: 'health', organisation: 'DEMO-CHS', type: 'health.immunisation.given' },
      ),
    );
    expect(rows.map((row) => [row.day, row.sourceOrganisation, row.agreement])).toEqual([
      ['2025-12-31', 'DEMO-CHS', null],
      ['2026-03-02', 'DEMO-MHT', 'vale-camhs-safeguarding@1'],
      ['2026-03-02', 'DEMO-CHS', null],
      ['2026-03-02', null, null],
    ]);
  });

  it('keeps rejected events of no known type under no agreement', () => {
    const rows = flowRowsOf(
      demo,
      counted({ day: '2026-03-02', agency: 'education', organisation: null, type: 'unknown' }),
    );
    expect(rows.map((row) => row.agreement)).toEqual([null]);
  });
});

describe('CSV', () => {
  it('quotes as RFC 4180 and defuses formulas in text, never in numbers', () => {
    const csv = toCsv(
      [
        { text: '=HYPERLINK("http://x","y")', n: -1 },
        { text: '+1', n: 2 },
        { text: '-2', n: 0 },
        { text: '@SUM(A1)', n: 3 },
        { text: 'plain, with comma', n: 4 },
      ],
      [
        { header: 'text', cell: (row) => row.text },
        { header: 'n', cell: (row) => row.n },
      ],
    );
    expect(csv.startsWith('\uFEFF')).toBe(true);
    expect(csv.slice(1).split('\r\n')).toEqual([
      'text,n',
      `"'=HYPERLINK(""http://x"",""y"")",-1`,
      "'+1,2",
      "'-2,0",
      "'@SUM(A1),3",
      '"plain, with comma",4',
      '',
    ]);
  });

  it('is asked for with ?format=csv, or Accept: text/csv when no format is given', () => {
    expect(wantsCsv('csv', undefined)).toBe(true);
    expect(wantsCsv('json', 'text/csv')).toBe(false);
    expect(wantsCsv(undefined, 'text/csv')).toBe(true);
    expect(wantsCsv(undefined, 'text/csv;q=1, application/json')).toBe(true);
    expect(wantsCsv(undefined, 'application/json, text/csv')).toBe(false);
    expect(wantsCsv(undefined, undefined)).toBe(false);
  });
});
