import { answerJson } from './entry-json';

const stringified = (head: object, entries: { view: object; sharedUnder: unknown }[]): string =>
  JSON.stringify({ ...head, entries: entries.map(({ view, sharedUnder }) => ({ ...view, sharedUnder })) });

describe('answerJson', () => {
  const head = {
    childKey: 'ch_0123456789abcdef0123',
    mergedChildKeys: [],
    dateOfBirth: undefined,
    subjects: [{ streamId: 'health-1', identifiers: [{ kind: 'nhs-number', value: '9990000018' }] }],
    withheld: [{ count: 2, reason: 'special category: sexual health' }],
    access: { purpose: 'safeguarding', roles: ['social-worker'], policyVersion: 3 },
  };
  const own = { basis: 'own-organisation' };
  const agreement = { basis: 'agreement', agreement: 'isa-2025-01' };

  it('gives the bytes of JSON.stringify of the whole answer, entry views with their basis spliced in', () => {
    const views = [
      {
        position: 1,
        summary: 'Visit — “seen alone”',
        details: { nested: [1, { a: null }] },
        last: undefined,
      },
      { position: 2, summary: 'Ünïcödé and an emoji 🧒 and a quote " and a backslash \\', kind: 'fact' },
      {},
      { position: 4, summary: 'plain' },
    ];
    const entries = [
      { view: views[0], sharedUnder: own },
      { view: views[1], sharedUnder: agreement },
      { view: views[2], sharedUnder: own },
      { view: views[3], sharedUnder: { basis: 'break-glass', grant: 'bg-1' } },
    ];
    const bytes = answerJson(head, entries);
    expect(bytes.toString('utf8')).toBe(stringified(head, entries));
    expect(JSON.parse(bytes.toString('utf8')).entries[2]).toEqual({ sharedUnder: own });
  });

  it("answers a view held from an earlier read with this read's basis, and no entries as an empty list", () => {
    const view = { position: 7, summary: 'Referral received' };
    expect(answerJson(head, [{ view, sharedUnder: own }]).toString()).toBe(
      stringified(head, [{ view, sharedUnder: own }]),
    );
    expect(answerJson(head, [{ view, sharedUnder: agreement }]).toString()).toBe(
      stringified(head, [{ view, sharedUnder: agreement }]),
    );
    expect(answerJson(head, []).toString()).toBe(stringified(head, []));
  });

  it('refuses a head whose JSON does not end with its entries, and an entry without a basis', () => {
    expect(() => answerJson({ toJSON: () => ({ a: 1 }) }, [])).toThrow('must end with its entries');
    expect(() => answerJson(head, [{ view: { position: 1 }, sharedUnder: undefined }])).toThrow(
      'every entry of a timeline answer has a basis',
    );
  });
});
