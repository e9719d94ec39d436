import {
  blockingKeys,
  DEFAULT_MATCH_MODEL,
  jaroWinkler,
  scoreMatch,
  shouldPropose,
  soundex,
  type MatchModel,
  type MatchScore,
} from './probabilistic';
import type { SubjectSnapshot } from './subject';

const person = (streamId: string, rest: Partial<SubjectSnapshot>): SubjectSnapshot => ({
  streamId,
  agency: 'health',
  recordId: streamId,
  identifiers: [],
  ...rest,
});
const evidenceOf = (score: MatchScore, field: string) => score.evidence.find((e) => e.field === field)!;

describe('jaroWinkler', () => {
  // Reference values published with Winkler's method (and reproduced in most texts on it).
  it.each([
    ['MARTHA', 'MARHTA', 0.961],
    ['DWAYNE', 'DUANE', 0.84],
    ['DIXON', 'DICKSONX', 0.813],
  ])('%s / %s = %d', (a, b, expected) => {
    expect(jaroWinkler(a, b)).toBeCloseTo(expected, 3);
    expect(jaroWinkler(b, a)).toBeCloseTo(expected, 3);
  });

  it('is 1 for equal names up to case, diacritics, spaces and punctuation; 0 for nothing in common', () => {
    expect(jaroWinkler('Zoë', 'ZOE')).toBe(1);
    expect(jaroWinkler('Marchbank-Vole', 'marchbank vole')).toBe(1);
    expect(jaroWinkler('ABC', 'XYZ')).toBe(0);
    expect(jaroWinkler('', 'Wren')).toBe(0);
  });
});

describe('soundex', () => {
  it.each([
    ['Robert', 'R163'],
    ['Rupert', 'R163'],
    ['Ashcraft', 'A261'],
    ['Tymczak', 'T522'],
    ['Pfister', 'P236'],
    ['Honeyman', 'H555'],
    ['Lee', 'L000'],
  ])('%s → %s', (name, code) => expect(soundex(name)).toBe(code));
});

describe('the default model', () => {
  it('gives each field level log2(m/u), agreeing positive and disagreeing negative', () => {
    const a = person('a', {
      name: { given: 'Juniper', family: 'Quillfeather' },
      dateOfBirth: '2015-03-04',
      sex: '2',
      postcode: 'ZZ9 3AB',
    });
    const score = scoreMatch(a, { ...a, streamId: 'b' });
    expect(score.evidence.map((e) => [e.field, e.outcome, e.weight])).toEqual([
      ['given-name', 'agree', 5.49], // log2(0.90 / 0.02)
      ['family-name', 'agree', 6.49], // log2(0.90 / 0.01)
      ['date-of-birth', 'agree', 11.6], // log2(0.93 / 0.0003)
      ['sex', 'agree', 0.97], // log2(0.98 / 0.5)
      ['postcode', 'agree', 10.45], // log2(0.70 / 0.0005)
      ['nhs-number', 'missing', 0],
      ['upn', 'missing', 0],
    ]);
    expect(score.score).toBeCloseTo(5.49 + 6.49 + 11.6 + 0.97 + 10.45, 2);
  });

  it('scores disagreement as log2((1 - m) / (1 - u)) over the remaining levels', () => {
    const a = person('a', {
      name: { given: 'Juniper', family: 'Quillfeather' },
      dateOfBirth: '2015-03-04',
      sex: '2',
      postcode: 'ZZ9 3AB',
    });
    const b = person('b', {
      name: { given: 'Bramble', family: 'Owlcroft' },
      dateOfBirth: '2019-11-23',
      sex: '1',
      postcode: 'ZZ1 8XY',
    });
    const score = scoreMatch(a, b);
    expect(score.evidence.slice(0, 5).map((e) => [e.field, e.outcome, e.weight])).toEqual([
      ['given-name', 'disagree', -4.26], // log2(0.05 / 0.96)
      ['family-name', 'disagree', -4.29], // log2(0.05 / 0.98)
      ['date-of-birth', 'disagree', -5.63], // log2(0.02 / 0.9897)
      ['sex', 'disagree', -4.64], // log2(0.02 / 0.5)
      ['postcode', 'disagree', -2.66], // log2(0.15 / 0.9495)
    ]);
    expect(shouldPropose(score)).toBe(false);
  });
});

describe('field levels', () => {
  const base = person('a', {
    name: { given: 'Clementine', family: 'Hollowmere' },
    dateOfBirth: '2014-05-09',
    sex: '2',
    postcode: 'ZZ9 3AB',
  });

  it('names: JW ≥ 0.92 agree, ≥ 0.85 partial, below disagree', () => {
    const typo = scoreMatch(base, {
      ...base,
      streamId: 'b',
      name: { given: 'Clementnie', family: 'Hollowmere' },
    });
    expect(evidenceOf(typo, 'given-name').outcome).toBe('agree');
    const nickname = scoreMatch(base, {
      ...base,
      streamId: 'b',
      name: { given: 'Clemmie', family: 'Hollowmere' },
    });
    expect(evidenceOf(nickname, 'given-name')).toMatchObject({ outcome: 'partial', weight: 1.32 });
    expect(evidenceOf(nickname, 'given-name').detail).toMatch(/^Jaro-Winkler 0\.8\d\d$/);
    const other = scoreMatch(base, {
      ...base,
      streamId: 'b',
      name: { given: 'Hazel', family: 'Hollowmere' },
    });
    expect(evidenceOf(other, 'given-name').outcome).toBe('disagree');
  });

  it.each([
    ['2014-05-09', 'agree', undefined],
    ['2014-09-05', 'partial', 'day and month transposed'],
    ['2014-05-19', 'partial', 'one of day, month, year differs'],
    ['2015-05-09', 'partial', 'one of day, month, year differs'],
    ['2015-06-09', 'disagree', undefined],
  ])('date of birth %s against 2014-05-09: %s', (dateOfBirth, outcome, detail) => {
    const evidence = evidenceOf(scoreMatch(base, { ...base, streamId: 'b', dateOfBirth }), 'date-of-birth');
    expect(evidence.outcome).toBe(outcome);
    expect(evidence.detail).toBe(detail);
  });

  it('an expected date of birth near the actual one partly agrees', () => {
    const unborn = person('b', { expectedDateOfBirth: '2014-05-20' });
    expect(evidenceOf(scoreMatch(base, unborn), 'date-of-birth')).toMatchObject({
      outcome: 'partial',
      detail: 'expected date of birth 11 days off',
    });
    const far = person('b', { expectedDateOfBirth: '2014-09-20' });
    expect(evidenceOf(scoreMatch(base, far), 'date-of-birth').outcome).toBe('disagree');
  });

  it('postcode: full agrees, same district partly agrees', () => {
    const district = scoreMatch(base, { ...base, streamId: 'b', postcode: 'ZZ9 7QT' });
    expect(evidenceOf(district, 'postcode')).toMatchObject({ outcome: 'partial', weight: 1.58 });
    const moved = scoreMatch(base, { ...base, streamId: 'b', postcode: 'ZZ8 7QT' });
    expect(evidenceOf(moved, 'postcode').outcome).toBe('disagree');
  });

  it('sex not known or not specified is missing evidence, not disagreement', () => {
    expect(evidenceOf(scoreMatch(base, { ...base, streamId: 'b', sex: '0' }), 'sex').outcome).toBe('missing');
    expect(evidenceOf(scoreMatch(base, { ...base, streamId: 'b', sex: '1' }), 'sex').outcome).toBe(
      'disagree',
    );
  });

  it('missing fields weigh nothing', () => {
    const bare = person('b', {});
    const score = scoreMatch(base, bare);
    expect(score.evidence.every((e) => e.outcome === 'missing' && e.weight === 0)).toBe(true);
    expect(score.score).toBe(0);
  });
});

describe('shouldPropose', () => {
  it('proposes at the threshold and never across different NHS numbers', () => {
    expect(shouldPropose({ score: DEFAULT_MATCH_MODEL.proposeAt, evidence: [] })).toBe(true);
    expect(shouldPropose({ score: DEFAULT_MATCH_MODEL.proposeAt - 0.01, evidence: [] })).toBe(false);
    expect(
      shouldPropose({ score: 40, evidence: [{ field: 'nhs-number', outcome: 'disagree', weight: -7.64 }] }),
    ).toBe(false);
  });

  it('takes a model with another threshold, and refuses a model that is not one', () => {
    const strict: MatchModel = { ...DEFAULT_MATCH_MODEL, proposeAt: 30 };
    expect(shouldPropose({ score: 20, evidence: [] }, strict)).toBe(false);
    const broken: MatchModel = {
      ...DEFAULT_MATCH_MODEL,
      fields: { ...DEFAULT_MATCH_MODEL.fields, sex: { agree: { m: 1.2, u: 0.5 } } },
    };
    expect(() => scoreMatch(person('a', {}), person('b', {}), broken)).toThrow('match model field sex');
  });
});

describe('blockingKeys', () => {
  const child = person('a', {
    name: { given: 'Wren', family: 'Mossgrove' },
    dateOfBirth: '2015-03-04',
    postcode: 'ZZ9 3AB',
  });

  it('keys on date of birth (and its day-month swap), year with family or district, names, and the compounds', () => {
    expect(blockingKeys(child)).toEqual([
      'district-yob:ZZ9:2015',
      'dob-family:2015-03-04:M261',
      'dob-given:2015-03-04:W650',
      'dob:2015-03-04',
      'dob:2015-04-03',
      'name:W650:M261',
      'yob-family:2015:M261',
      'yob-name:2015:W650:M261',
    ]);
  });

  // Each compound key is a subset of a broad one, so it adds no candidate while the broad keys
  // are small; where they are too broad (decision 026 purges them), it still holds these pairs.
  const sharedCompounds = (a: SubjectSnapshot, b: SubjectSnapshot) =>
    blockingKeys(a).filter(
      (key) => /^(dob-family|dob-given|yob-name):/.test(key) && blockingKeys(b).includes(key),
    );

  it('keeps a record whose family name changed beside the original by date of birth and given name', () => {
    const renamed = person('b', {
      name: { given: 'Wren', family: 'Ashcombe-Mossgrove' },
      dateOfBirth: '2015-03-04',
    });
    expect(sharedCompounds(child, renamed)).toEqual(['dob-given:2015-03-04:W650']);
  });

  it('keeps a record with another given name beside the original by date of birth and family name', () => {
    const other = person('b', { name: { given: 'Birdie', family: 'Mossgrove' }, dateOfBirth: '2015-03-04' });
    expect(sharedCompounds(child, other)).toEqual(['dob-family:2015-03-04:M261']);
  });

  it('keeps a record with a wrong day of birth beside the original by year and both names', () => {
    const other = person('b', { name: { given: 'Wren', family: 'Mossgrove' }, dateOfBirth: '2015-03-14' });
    expect(sharedCompounds(child, other)).toEqual(['yob-name:2015:W650:M261']);
  });

  it('makes no compound key without a name, and none on the date for an expected date of birth', () => {
    expect(blockingKeys(person('b', { dateOfBirth: '2015-03-04' }))).toEqual([
      'dob:2015-03-04',
      'dob:2015-04-03',
    ]);
    expect(
      blockingKeys(
        person('b', { name: { given: 'Wren', family: 'Mossgrove' }, expectedDateOfBirth: '2026-05-01' }),
      ),
    ).toEqual(['name:W650:M261', 'yob-family:2026:M261', 'yob-name:2026:W650:M261']);
  });

  it('puts a record with a misspelt name and a new postcode in a block with the original', () => {
    const other = person('b', {
      name: { given: 'Wrenn', family: 'Mosgrove' },
      dateOfBirth: '2015-03-04',
      postcode: 'ZZ1 9XY',
    });
    const shared = blockingKeys(child).filter((key) => blockingKeys(other).includes(key));
    expect(shared).toContain('dob:2015-03-04');
  });

  it('puts a transposed date of birth in a block with the original', () => {
    const other = person('b', { name: { given: 'Pip', family: 'Wickerby' }, dateOfBirth: '2015-04-03' });
    expect(blockingKeys(other)).toContain('dob:2015-03-04');
  });

  it('gives a record with nothing to block on no keys', () => {
    expect(blockingKeys(person('b', {}))).toEqual([]);
  });
});
