import {
  csvFileName,
  defaultDays,
  flowsByAgreement,
  periodOfDays,
  queryOf,
  rulesText,
  withheldText,
  type FlowRow,
} from './page/governance-logic';

const flow = (agreement: string | null, day: string, accepted: number): FlowRow => ({
  day,
  agreement,
  agreementTitle: agreement ? `title of ${agreement}` : null,
  providingAgency: 'health',
  sourceOrganisation: 'DEMO-CHS',
  publisher: 'p',
  eventType: 'health.immunisation.given',
  accepted,
  rejected: 1,
  rejectedByRule: { required: 1 },
  deadLettered: 0,
  redriven: 0,
});

describe("the governance page's logic", () => {
  it('turns the days an officer chose (both included, UTC) into the API period', () => {
    expect(periodOfDays('2026-03-01', '2026-03-31')).toEqual({
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-04-01T00:00:00.000Z',
    });
    expect(periodOfDays('', '2026-03-31')).toBeUndefined();
    expect(periodOfDays('2026-02-30x', '2026-03-31')).toBeUndefined();
    expect(defaultDays(new Date('2026-03-31T12:00:00Z'))).toEqual({ from: '2026-03-02', to: '2026-03-31' });
  });

  it('builds query strings from the values that are set', () => {
    expect(queryOf({ from: 'a b', child: undefined, user: '' })).toBe('?from=a+b');
    expect(queryOf({})).toBe('');
  });

  it('groups flows per agreement, unshared flows last, each by day with totals', () => {
    const groups = flowsByAgreement([
      flow(null, '2026-03-01', 1),
      flow('b@1', '2026-03-02', 2),
      flow('a@1', '2026-03-02', 3),
      flow('a@1', '2026-03-01', 4),
    ]);
    expect(
      groups.map((group) => [group.agreement, group.rows.map((row) => row.day), group.totals.accepted]),
    ).toEqual([
      ['a@1', ['2026-03-01', '2026-03-02'], 7],
      ['b@1', ['2026-03-02'], 2],
      [null, ['2026-03-01'], 1],
    ]);
    expect(groups[0].totals.rejected).toBe(2);
  });

  it('says rules and withheld entries in words', () => {
    expect(rulesText({ required: 2, pattern: 1 })).toBe('pattern ×1, required ×2');
    expect(withheldText([{ count: 3, reason: 'mental-health: no agreement covers it' }])).toBe(
      '3 × mental-health: no agreement covers it',
    );
    expect(csvFileName('flows', '2026-03-01', '2026-03-31')).toBe(
      'throughline-flows-2026-03-01-to-2026-03-31.csv',
    );
  });
});
