import type { AgencyEvent, Subject } from '@throughline/contracts';
import { compareDeterministic } from './deterministic';
import { candidatePairs, scoreMatch, shouldPropose } from './probabilistic';
import { evolveSubject, subjectOf, type SubjectSnapshot } from './subject';

/**
 * Synthetic families where names and dates of birth collide, and identifiers change over a
 * childhood: what links, what is proposed for a person to decide, what is flagged.
 */
type Agency = AgencyEvent['source']['agency'];

function recordOf(agency: Agency, recordId: string, steps: [string, Omit<Subject, 'recordId'>][]) {
  let snapshot: SubjectSnapshot | undefined;
  for (const [occurredAt, subject] of steps) {
    const event = { source: { agency, system: 'test' }, subject: { recordId, ...subject } };
    snapshot = evolveSubject(snapshot, subjectOf(event), occurredAt);
  }
  return snapshot!;
}

interface Verdict {
  readonly pair: string;
  readonly shared: string[];
  readonly conflicts: string[];
  readonly score: number;
  readonly proposed: boolean;
}

/** What the linker would see for every blocked pair of these records. */
function verdicts(records: SubjectSnapshot[]): Verdict[] {
  return candidatePairs(records).map(([a, b]) => {
    const deterministic = compareDeterministic(a, b);
    const score = scoreMatch(a, b);
    return {
      pair: `${a.streamId} ~ ${b.streamId}`,
      shared: deterministic.shared.map((s) => s.kind),
      conflicts: deterministic.conflicts.map((c) => c.kind),
      score: score.score,
      proposed: deterministic.shared.length === 0 && shouldPropose(score),
    };
  });
}

describe('identical twins', () => {
  const home = { sex: '2', postcode: 'ZZ9 3AB', dateOfBirth: '2016-02-11' } as const;
  const wren = recordOf('health', 'twin-1', [
    [
      '2016-02-11T08:00:00Z',
      { nhsNumber: '9434765919', name: { given: 'Wren', family: 'Mossgrove' }, ...home },
    ],
  ]);
  const hazel = recordOf('health', 'twin-2', [
    [
      '2016-02-11T08:05:00Z',
      { nhsNumber: '9000000009', name: { given: 'Hazel', family: 'Mossgrove' }, ...home },
    ],
  ]);

  it('are blocked together, share no identifier, conflict on NHS number and are never proposed', () => {
    const [verdict] = verdicts([wren, hazel]);
    expect(verdict).toMatchObject({ shared: [], conflicts: ['nhs-number'], proposed: false });
  });

  it('with near-identical names (Aimee / Amie) still score high but are not proposed', () => {
    const aimee = { ...wren, name: { given: 'Aimee', family: 'Mossgrove' } };
    const amie = { ...hazel, name: { given: 'Amie', family: 'Mossgrove' } };
    const score = scoreMatch(aimee, amie);
    expect(score.score).toBeGreaterThan(20);
    expect(score.evidence.find((e) => e.field === 'nhs-number')).toMatchObject({ outcome: 'disagree' });
    expect(shouldPropose(score)).toBe(false);
  });
});

describe('cousins with the same name', () => {
  const cousin = (recordId: string, nhsNumber: string, dateOfBirth: string, postcode: string) =>
    recordOf('health', recordId, [
      [
        `${dateOfBirth}T09:00:00Z`,
        { nhsNumber, name: { given: 'Rowan', family: 'Thistledown' }, sex: '1', dateOfBirth, postcode },
      ],
    ]);

  it.each([
    ['another district', 'ZZ1 4PQ'],
    ['the same district', 'ZZ9 8LM'],
  ])('born in different years and living in %s score below the threshold', (_, postcode) => {
    const a = cousin('cousin-1', '9434765919', '2013-07-21', 'ZZ9 1AA');
    const b = cousin('cousin-2', '9912003888', '2015-01-09', postcode);
    const [verdict] = verdicts([a, b]);
    expect(verdict.score).toBeLessThan(12);
    expect(verdict.proposed).toBe(false);
    // With only education's records (no NHS numbers), still not proposed.
    const withoutNhs = (s: SubjectSnapshot) => ({ ...s, identifiers: [] });
    expect(shouldPropose(scoreMatch(withoutNhs(a), withoutNhs(b)))).toBe(false);
  });
});

describe('one child recorded by education without NHS number and by health without UPN', () => {
  const school = recordOf('education', 'pupil-31', [
    [
      '2019-09-04T09:00:00Z',
      {
        upn: 'A950000178301',
        name: { given: 'Clementine', family: 'Hollowmere' },
        sex: '2',
        dateOfBirth: '2015-03-04',
        postcode: 'ZZ9 3AB',
      },
    ],
  ]);
  const health = recordOf('health', 'chs-31', [
    [
      '2015-03-04T09:00:00Z',
      {
        nhsNumber: '4010232137',
        name: { given: 'Clementine', family: 'Hollowmere' },
        sex: '2',
        dateOfBirth: '2015-03-04',
        postcode: 'ZZ9 3AB',
      },
    ],
    // The family moves to another district; a clerk types the name wrong.
    [
      '2021-05-17T09:00:00Z',
      { nhsNumber: '4010232137', name: { given: 'Clemetnine', family: 'Hollowmere' }, postcode: 'ZZ1 6RT' },
    ],
  ]);

  it('is proposed, not linked, with the evidence for a person to judge', () => {
    expect(health.postcode).toBe('ZZ1 6RT');
    const [verdict] = verdicts([school, health]);
    expect(verdict).toMatchObject({ shared: [], conflicts: [], proposed: true });
    const score = scoreMatch(school, health);
    expect(score.evidence.map((e) => [e.field, e.outcome])).toEqual([
      ['given-name', 'agree'],
      ['family-name', 'agree'],
      ['date-of-birth', 'agree'],
      ['sex', 'agree'],
      ['postcode', 'disagree'],
      ['nhs-number', 'missing'],
      ['upn', 'missing'],
    ]);
  });

  it('is not proposed against a same-named cousin born two years later', () => {
    const cousin = recordOf('health', 'chs-77', [
      [
        '2017-10-30T09:00:00Z',
        {
          nhsNumber: '9912003888',
          name: { given: 'Clementine', family: 'Hollowmere' },
          sex: '2',
          dateOfBirth: '2017-10-30',
          postcode: 'ZZ9 5GH',
        },
      ],
    ]);
    const all = verdicts([school, health, cousin]);
    expect(all.filter((v) => v.proposed).map((v) => v.pair)).toEqual(['education-pupil-31 ~ health-chs-31']);
  });
});

describe('identifiers changing mid-childhood', () => {
  it('links an old temporary UPN to the pupil who now holds a permanent one', () => {
    const school = recordOf('education', 'pupil-5', [
      ['2016-09-05T09:00:00Z', { upn: 'U80120000100A' }],
      ['2017-03-01T09:00:00Z', { upn: 'A950000178301' }],
    ]);
    const socialCare = recordOf('social-care', 'case-5', [
      ['2016-11-20T09:00:00Z', { laChildId: 'C555', laCode: '991', upn: 'U80120000100A' }],
    ]);
    expect(compareDeterministic(school, socialCare)).toEqual({
      shared: [{ kind: 'upn', value: 'U80120000100A' }],
      conflicts: [],
    });
  });

  it('links a case across a move between LAs through the NHS number added later', () => {
    const first = recordOf('social-care', 'case-6', [
      ['2018-02-01T10:00:00Z', { laChildId: 'C123', laCode: '991' }],
      ['2019-04-01T10:00:00Z', { laChildId: 'C123', laCode: '991', nhsNumber: '9434765919' }],
    ]);
    const after = recordOf('social-care', 'case-6b', [
      ['2020-06-15T10:00:00Z', { laChildId: 'X-77', laCode: '992', nhsNumber: '9434765919' }],
    ]);
    expect(compareDeterministic(first, after)).toEqual({
      shared: [{ kind: 'nhs-number', value: '9434765919' }],
      conflicts: [],
    });
  });
});

describe('two records sharing a UPN with different NHS numbers', () => {
  it('are a conflict to flag, never a merge', () => {
    const school = recordOf('education', 'pupil-9', [
      ['2020-09-03T09:00:00Z', { upn: 'H243278544154', nhsNumber: '9434765919', dateOfBirth: '2014-06-01' }],
    ]);
    const health = recordOf('health', 'chs-9', [
      ['2020-10-03T09:00:00Z', { upn: 'H243278544154', nhsNumber: '9912003888', dateOfBirth: '2014-06-01' }],
    ]);
    const comparison = compareDeterministic(school, health);
    expect(comparison).toEqual({
      shared: [{ kind: 'upn', value: 'H243278544154' }],
      conflicts: [{ kind: 'nhs-number', values: ['9434765919', '9912003888'] }],
    });
    expect(shouldPropose(scoreMatch(school, health))).toBe(false);
  });
});
