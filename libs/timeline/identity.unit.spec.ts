import { buildEnrolmentRecorded, buildImmunisationGiven } from '@throughline/testing';
import {
  childKeyOf,
  componentsOf,
  identifiersOf,
  joinedBy,
  type RecordEdge,
  type SubjectIdentifier,
} from './identity';

const NHS: SubjectIdentifier = { kind: 'nhs-number', value: '9434765919' };
const UPN: SubjectIdentifier = { kind: 'upn', value: 'A950000178301' };
const FORMER_UPN: SubjectIdentifier = { kind: 'former-upn', value: 'H243278544154' };

describe('identifiersOf', () => {
  it('returns the valid NHS number, UPN and former UPN of the subject', () => {
    const event = buildEnrolmentRecorded({
      subject: { nhsNumber: '9434765919', upn: 'A950000178301', formerUpn: 'H243278544154' },
    });
    expect(identifiersOf(event)).toEqual([NHS, UPN, FORMER_UPN]);
  });

  it('ignores identifiers that fail their check, and a former UPN equal to the current one', () => {
    const event = buildImmunisationGiven({
      subject: { nhsNumber: '9434765918', upn: 'A950000178301', formerUpn: 'A950000178301' },
    });
    expect(identifiersOf(event)).toEqual([UPN]);
  });
});

describe('childKeyOf', () => {
  it('is pseudonymous and deterministic, and the salt changes it', () => {
    const key = childKeyOf('health-chs-1');
    expect(key).toMatch(/^ch_[0-9a-f]{20}$/);
    expect(childKeyOf('health-chs-1')).toBe(key);
    expect(key).not.toContain('chs');
    expect(childKeyOf('health-chs-1', 'deployment-salt')).not.toBe(key);
    expect(childKeyOf('health-chs-2')).not.toBe(key);
  });
});

const record = (streamId: string, firstSeenPosition: bigint) => ({ streamId, firstSeenPosition });
const edge = (a: string, b: string, position: bigint, method = 'shared-nhs-number'): RecordEdge => ({
  a,
  b,
  position,
  method,
});

describe('componentsOf', () => {
  const records = [
    record('education-e', 3n),
    record('health-h', 1n),
    record('social-care-s', 2n),
    record('health-x', 4n),
  ];

  it('groups linked records into children, each earliest-seen record first', () => {
    const components = componentsOf(records, [
      edge('education-e', 'social-care-s', 9n),
      edge('social-care-s', 'health-h', 8n),
    ]);
    expect(components.map((component) => component.map((r) => r.streamId))).toEqual([
      ['health-h', 'social-care-s', 'education-e'],
      ['health-x'],
    ]);
  });

  it('splits a child when the record that bridged it has no links left', () => {
    // health-h and education-e were one child only through social-care-s.
    const components = componentsOf(records, [edge('health-x', 'education-e', 10n)]);
    expect(components.map((component) => component.map((r) => r.streamId))).toEqual([
      ['health-h'],
      ['social-care-s'],
      ['education-e', 'health-x'],
    ]);
  });

  it('ignores links to records outside the set', () => {
    expect(componentsOf([record('health-h', 1n)], [edge('health-h', 'health-elsewhere', 2n)])).toEqual([
      [record('health-h', 1n)],
    ]);
  });
});

describe('joinedBy', () => {
  it('says how each record joined: the founder first, the others through the earliest link that reached them', () => {
    const records = [record('health-h', 1n), record('social-care-s', 2n), record('education-e', 3n)];
    const joined = joinedBy(records, [
      edge('education-e', 'health-h', 12n, 'manual'),
      edge('social-care-s', 'health-h', 10n, 'shared-nhs-number'),
      edge('education-e', 'social-care-s', 11n, 'shared-upn'),
    ]);
    expect(Object.fromEntries(joined)).toEqual({
      'health-h': { method: 'first-record' },
      'social-care-s': { method: 'shared-nhs-number', via: 'health-h' },
      'education-e': { method: 'shared-upn', via: 'social-care-s' },
    });
  });
});
