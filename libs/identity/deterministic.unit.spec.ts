import { compareDeterministic } from './deterministic';
import type { IdentifierPeriod, SubjectSnapshot } from './subject';

const record = (
  streamId: string,
  identifiers: IdentifierPeriod[],
  rest: Partial<SubjectSnapshot> = {},
): SubjectSnapshot => ({
  streamId,
  agency: streamId.startsWith('health') ? 'health' : 'education',
  recordId: streamId.split('-').slice(1).join('-'),
  identifiers,
  ...rest,
});
const id = (kind: IdentifierPeriod['kind'], value: string, validFrom = '2016-01-01', validTo?: string) =>
  ({ kind, value, validFrom, ...(validTo ? { validTo } : {}) }) as IdentifierPeriod;

describe('compareDeterministic', () => {
  it('finds the identifiers two records share, strongest first', () => {
    const health = record('health-a', [id('nhs-number', '9434765919'), id('upn', 'A950000178301')]);
    const school = record('education-b', [id('upn', 'A950000178301'), id('nhs-number', '9434765919')]);
    expect(compareDeterministic(health, school)).toEqual({
      shared: [
        { kind: 'nhs-number', value: '9434765919' },
        { kind: 'upn', value: 'A950000178301' },
      ],
      conflicts: [],
    });
  });

  it('matches a former UPN against a current UPN, in the UPN namespace', () => {
    const oldSchool = record('education-a', [id('upn', 'U80120000100A')]);
    const newSchool = record('education-b', [id('upn', 'A950000178301'), id('former-upn', 'U80120000100A')]);
    expect(compareDeterministic(oldSchool, newSchool)).toEqual({
      shared: [{ kind: 'upn', value: 'U80120000100A' }],
      conflicts: [],
    });
  });

  it('matches on an identifier held earlier in the record’s history (an LA child id before a move)', () => {
    const before = record('social-care-a', [id('la-child-id', '991/C123', '2018-02-01', '2020-06-15')]);
    const after = record('social-care-b', [id('la-child-id', '991/C123', '2018-02-01')]);
    expect(compareDeterministic(before, after).shared).toEqual([{ kind: 'la-child-id', value: '991/C123' }]);
  });

  it('does not match the same LA child id in two different LAs', () => {
    const a = record('social-care-a', [id('la-child-id', '991/C123')]);
    const b = record('social-care-b', [id('la-child-id', '992/C123')]);
    expect(compareDeterministic(a, b)).toEqual({ shared: [], conflicts: [] });
  });

  it('reports a conflict when two records share a UPN but hold different NHS numbers', () => {
    const a = record('education-a', [id('upn', 'A950000178301'), id('nhs-number', '9434765919')]);
    const b = record('health-b', [id('upn', 'A950000178301'), id('nhs-number', '9000000009')]);
    expect(compareDeterministic(a, b)).toEqual({
      shared: [{ kind: 'upn', value: 'A950000178301' }],
      conflicts: [{ kind: 'nhs-number', values: ['9434765919', '9000000009'] }],
    });
  });

  it('reports different current UPNs, and different dates of birth, as conflicts', () => {
    const a = record('education-a', [id('nhs-number', '9434765919'), id('upn', 'A950000178301')], {
      dateOfBirth: '2015-03-04',
    });
    const b = record('education-b', [id('nhs-number', '9434765919'), id('upn', 'H243278544154')], {
      dateOfBirth: '2015-04-03',
    });
    expect(compareDeterministic(a, b).conflicts).toEqual([
      { kind: 'upn', values: ['A950000178301', 'H243278544154'] },
      { kind: 'date-of-birth', values: ['2015-03-04', '2015-04-03'] },
    ]);
  });

  it('does not call a replaced temporary UPN a conflict when the other record still holds it', () => {
    const stale = record('social-care-a', [id('upn', 'U80120000100A')]);
    const school = record('education-b', [
      id('upn', 'U80120000100A', '2016-09-05', '2017-03-01'),
      id('upn', 'A950000178301', '2017-03-01'),
      id('former-upn', 'U80120000100A', '2017-03-01'),
    ]);
    expect(compareDeterministic(stale, school)).toEqual({
      shared: [{ kind: 'upn', value: 'U80120000100A' }],
      conflicts: [],
    });
  });

  it('finds nothing between records with no identifiers in common and no contradiction', () => {
    const a = record('health-a', [id('nhs-number', '9434765919')]);
    const b = record('education-b', [id('upn', 'A950000178301')]);
    expect(compareDeterministic(a, b)).toEqual({ shared: [], conflicts: [] });
  });
});
