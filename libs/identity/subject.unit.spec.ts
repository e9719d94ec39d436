import type { AgencyEvent, Subject } from '@throughline/contracts';
import {
  currentIdentifiers,
  evolveSubject,
  normalisePostcode,
  subjectOf,
  type SubjectSnapshot,
} from './subject';

type Agency = AgencyEvent['source']['agency'];
const eventOf = (agency: Agency, subject: Partial<Subject>) =>
  ({ source: { agency, system: 'test' }, subject: { recordId: 'r1', ...subject } }) as Pick<
    AgencyEvent,
    'source' | 'subject'
  >;

/** Folds `[occurredAt, subject]` steps into one record's snapshot. */
function fold(agency: Agency, steps: [string, Partial<Subject>][]): SubjectSnapshot {
  let snapshot: SubjectSnapshot | undefined;
  for (const [occurredAt, subject] of steps)
    snapshot = evolveSubject(snapshot, subjectOf(eventOf(agency, subject)), occurredAt);
  return snapshot!;
}

describe('subjectOf', () => {
  // Check-digit vectors from the shared domain reference.
  it.each(['9434765919', '9000000009', '9912003888', '4010232137'])('keeps valid NHS number %s', (nhs) => {
    expect(subjectOf(eventOf('health', { nhsNumber: nhs })).identifiers).toEqual([
      { kind: 'nhs-number', value: nhs },
    ]);
  });

  it.each(['9434765918', '9912003890', '1234567890', '9990000001', '9990000005'])(
    'drops invalid NHS number %s',
    (nhs) => {
      expect(subjectOf(eventOf('health', { nhsNumber: nhs })).identifiers).toEqual([]);
    },
  );

  it.each(['A950000178301', 'H243278544154', 'B801200005001', 'U80120000100A', 'F93512345678T'])(
    'keeps valid UPN %s',
    (upn) => {
      expect(subjectOf(eventOf('education', { upn })).identifiers).toEqual([{ kind: 'upn', value: upn }]);
    },
  );

  it.each(['A950000178302', 'Z950000178301'])('drops invalid UPN %s, as current or former', (upn) => {
    expect(subjectOf(eventOf('education', { upn, formerUpn: upn })).identifiers).toEqual([]);
  });

  it('scopes the LA child id by its LA code, and needs the code', () => {
    expect(subjectOf(eventOf('social-care', { laChildId: 'C123', laCode: '991' })).identifiers).toEqual([
      { kind: 'la-child-id', value: '991/C123' },
    ]);
    expect(subjectOf(eventOf('social-care', { laChildId: 'C123' })).identifiers).toEqual([]);
  });

  it('states the record, its valid identifiers and normalised demographics', () => {
    const facts = subjectOf(
      eventOf('education', {
        recordId: 'pupil-7',
        upn: 'A950000178301',
        formerUpn: 'U80120000100A',
        uln: '1234567890',
        name: { given: ' Wren ', family: 'Mossgrove' },
        sex: '2',
        postcode: 'zz9 3ab',
        dateOfBirth: '2015-03-04',
      }),
    );
    expect(facts).toEqual({
      streamId: 'education-pupil-7',
      agency: 'education',
      recordId: 'pupil-7',
      identifiers: [
        { kind: 'upn', value: 'A950000178301' },
        { kind: 'former-upn', value: 'U80120000100A' },
        { kind: 'uln', value: '1234567890' },
      ],
      name: { given: 'Wren', family: 'Mossgrove' },
      sex: '2',
      postcode: 'ZZ9 3AB',
      dateOfBirth: '2015-03-04',
    });
  });

  it('normalises postcodes and refuses what is not one', () => {
    expect(normalisePostcode('zz93ab')).toBe('ZZ9 3AB');
    expect(normalisePostcode('  ZZ9   3AB ')).toBe('ZZ9 3AB');
    expect(normalisePostcode('not a postcode')).toBeUndefined();
  });
});

describe('evolveSubject: identifiers over a childhood', () => {
  it('keeps a temporary UPN replaced by a permanent one as a former UPN', () => {
    const pupil = fold('education', [
      ['2016-09-05T09:00:00Z', { upn: 'U80120000100A' }],
      ['2017-01-10T09:00:00Z', { upn: 'U80120000100A' }],
      ['2017-03-01T09:00:00Z', { upn: 'A950000178301' }],
    ]);
    expect(pupil.identifiers).toEqual([
      { kind: 'upn', value: 'U80120000100A', validFrom: '2016-09-05', validTo: '2017-03-01' },
      { kind: 'upn', value: 'A950000178301', validFrom: '2017-03-01' },
      { kind: 'former-upn', value: 'U80120000100A', validFrom: '2017-03-01' },
    ]);
    expect(currentIdentifiers(pupil).map((p) => p.value)).toEqual(['A950000178301', 'U80120000100A']);
  });

  it('does not add a former UPN twice when the school also sends it', () => {
    const pupil = fold('education', [
      ['2016-09-05T09:00:00Z', { upn: 'U80120000100A' }],
      ['2017-03-01T09:00:00Z', { upn: 'A950000178301', formerUpn: 'U80120000100A' }],
    ]);
    expect(pupil.identifiers.filter((p) => p.kind === 'former-upn')).toHaveLength(1);
  });

  it('closes the LA child id when the child moves to another LA', () => {
    const child = fold('social-care', [
      ['2018-02-01T10:00:00Z', { laChildId: 'C123', laCode: '991' }],
      ['2020-06-15T10:00:00Z', { laChildId: 'X-77', laCode: '992' }],
    ]);
    expect(child.identifiers).toEqual([
      { kind: 'la-child-id', value: '991/C123', validFrom: '2018-02-01', validTo: '2020-06-15' },
      { kind: 'la-child-id', value: '992/X-77', validFrom: '2020-06-15' },
    ]);
  });

  it('opens an NHS number added later, and an event that leaves it out does not end it', () => {
    const child = fold('social-care', [
      ['2018-02-01T10:00:00Z', { laChildId: 'C123', laCode: '991' }],
      ['2018-05-01T10:00:00Z', { laChildId: 'C123', laCode: '991', nhsNumber: '9434765919' }],
      ['2018-09-01T10:00:00Z', { laChildId: 'C123', laCode: '991' }],
    ]);
    expect(currentIdentifiers(child)).toEqual([
      { kind: 'la-child-id', value: '991/C123', validFrom: '2018-02-01' },
      { kind: 'nhs-number', value: '9434765919', validFrom: '2018-05-01' },
    ]);
  });

  it('records an older event arriving late as history, not as the current identifier', () => {
    const pupil = fold('education', [
      ['2017-03-01T09:00:00Z', { upn: 'A950000178301' }],
      ['2016-09-05T09:00:00Z', { upn: 'U80120000100A' }],
    ]);
    expect(currentIdentifiers(pupil).find((p) => p.kind === 'upn')?.value).toBe('A950000178301');
    expect(pupil.identifiers).toContainEqual({
      kind: 'upn',
      value: 'U80120000100A',
      validFrom: '2016-09-05',
      validTo: '2017-03-01',
    });
    expect(pupil.identifiers).toContainEqual({
      kind: 'former-upn',
      value: 'U80120000100A',
      validFrom: '2016-09-05',
    });
  });

  it('takes the latest non-empty demographics; a late older event only fills gaps', () => {
    const child = fold('health', [
      ['2015-03-04T10:00:00Z', { name: { given: 'Wren', family: 'Mossgrove' }, postcode: 'ZZ9 1AA' }],
      ['2019-01-01T10:00:00Z', { postcode: 'ZZ8 2BB', sex: '2' }],
      ['2016-01-01T10:00:00Z', { postcode: 'ZZ9 4CC', dateOfBirth: '2015-03-04' }],
    ]);
    expect(child).toMatchObject({
      name: { given: 'Wren', family: 'Mossgrove' },
      postcode: 'ZZ8 2BB',
      sex: '2',
      dateOfBirth: '2015-03-04',
      observedAt: '2019-01-01T10:00:00Z',
    });
  });

  it('refuses facts of another record', () => {
    const child = fold('health', [['2019-01-01T10:00:00Z', { nhsNumber: '9434765919' }]]);
    const other = subjectOf(eventOf('health', { recordId: 'r2' }));
    expect(() => evolveSubject(child, other, '2019-02-01T10:00:00Z')).toThrow('health-r2');
  });
});
