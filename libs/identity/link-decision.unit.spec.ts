import { decideLinks, type LinkCandidate, type PairState } from './link-decision';
import { DEFAULT_MATCH_MODEL } from './probabilistic';
import type { IdentifierPeriod, SubjectSnapshot } from './subject';

const NHS_A = '9434765919';
const NHS_B = '9999999484';
const UPN = 'A950000178301';
const BORN = '2015-03-01';

function snapshot(
  streamId: string,
  identifiers: Omit<IdentifierPeriod, 'validFrom'>[],
  extra: Partial<SubjectSnapshot> = {},
): SubjectSnapshot {
  const [agency, ...rest] = streamId.split('-');
  return {
    streamId,
    agency: agency as SubjectSnapshot['agency'],
    recordId: rest.join('-'),
    identifiers: identifiers.map((identifier) => ({ ...identifier, validFrom: '2024-01-01' })),
    dateOfBirth: BORN,
    ...extra,
  };
}

function decide(
  subject: SubjectSnapshot,
  candidates: LinkCandidate[],
  options: { partners?: SubjectSnapshot[]; states?: Record<string, PairState> } = {},
) {
  return decideLinks({
    subject,
    candidates,
    partners: options.partners ?? [],
    stateBetween: (a, b) => options.states?.[[a, b].sort().join('|')],
    model: DEFAULT_MATCH_MODEL,
  });
}

const health = snapshot('health-h', [{ kind: 'nhs-number', value: NHS_A }]);

describe('decideLinks', () => {
  it('links records that share a valid identifier and contradict nothing', () => {
    const education = snapshot('education-e', [
      { kind: 'nhs-number', value: NHS_A },
      { kind: 'upn', value: UPN },
    ]);
    expect(decide(education, [{ snapshot: health }])).toEqual([
      {
        kind: 'link',
        with: 'health-h',
        method: 'shared-nhs-number',
        shared: [{ kind: 'nhs-number', value: NHS_A }],
      },
    ]);
  });

  it('flags, and does not link, records sharing a UPN with different NHS numbers', () => {
    const socialCare = snapshot('social-care-s', [
      { kind: 'nhs-number', value: NHS_A },
      { kind: 'upn', value: UPN },
    ]);
    const education = snapshot('education-e', [
      { kind: 'nhs-number', value: NHS_B },
      { kind: 'upn', value: UPN },
    ]);
    expect(decide(education, [{ snapshot: socialCare }])).toEqual([
      expect.objectContaining({
        kind: 'conflict',
        rule: 'contradicting-identifiers',
        others: ['social-care-s'],
        conflicts: [
          { kind: 'nhs-number', values: [NHS_B, NHS_A], between: ['education-e', 'social-care-s'] },
        ],
      }),
    ]);
  });

  it('never links a pair again that a person unlinked or rejected, nor re-flags or re-links a settled pair', () => {
    const education = snapshot('education-e', [{ kind: 'nhs-number', value: NHS_A }]);
    for (const state of ['unlinked', 'rejected', 'linked', 'conflict'] as const) {
      expect(decide(education, [{ snapshot: health, state }])).toEqual([]);
    }
    // An open proposal does not stop a deterministic link.
    expect(decide(education, [{ snapshot: health, state: 'proposed' }])).toEqual([
      expect.objectContaining({ kind: 'link', with: 'health-h' }),
    ]);
  });

  it('links nothing when the new record would bridge two records a person separated', () => {
    const socialCare = snapshot('social-care-s', [{ kind: 'nhs-number', value: NHS_A }]);
    const third = snapshot('education-e', [{ kind: 'nhs-number', value: NHS_A }]);
    const outcomes = decide(third, [{ snapshot: health }, { snapshot: socialCare }], {
      states: { 'health-h|social-care-s': 'unlinked' },
    });
    expect(outcomes).toEqual([
      expect.objectContaining({
        kind: 'conflict',
        rule: 'bridges-separated-records',
        others: ['health-h', 'social-care-s'],
        conflicts: [{ kind: 'unlinked', between: ['health-h', 'social-care-s'] }],
      }),
    ]);
  });

  it('links nothing when a new partner contradicts a record already linked to this one', () => {
    const partner = snapshot('social-care-s', [{ kind: 'upn', value: UPN }], { dateOfBirth: '2015-03-02' });
    const education = snapshot(
      'education-e',
      [
        { kind: 'nhs-number', value: NHS_A },
        { kind: 'upn', value: UPN },
      ],
      { dateOfBirth: undefined },
    );
    const outcomes = decide(education, [{ snapshot: health }], { partners: [partner] });
    expect(outcomes).toEqual([
      expect.objectContaining({
        kind: 'conflict',
        rule: 'bridges-contradicting-records',
        others: ['health-h'],
      }),
    ]);
  });

  it('only proposes a probable match with no shared identifier, and only once', () => {
    const demographics = {
      name: { given: 'Amelia', family: 'Testperson' },
      sex: '2' as const,
      postcode: 'ZZ99 3AB',
    };
    const a = snapshot('health-h', [{ kind: 'nhs-number', value: NHS_A }], demographics);
    const b = snapshot('education-e', [{ kind: 'upn', value: UPN }], demographics);
    const [outcome] = decide(b, [{ snapshot: a }]);
    expect(outcome).toMatchObject({ kind: 'propose', with: 'health-h' });
    expect(decide(b, [{ snapshot: a, state: 'proposed' }])).toEqual([]);
    expect(decide(b, [{ snapshot: a, state: 'rejected' }])).toEqual([]);
    // A date of birth alone is not enough.
    expect(decide(snapshot('education-x', []), [{ snapshot: health }])).toEqual([]);
  });
});
