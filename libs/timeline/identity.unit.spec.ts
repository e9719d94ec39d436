import { buildEnrolmentRecorded, buildImmunisationGiven } from '@throughline/testing';
import { childKeyOf, decideIdentity, identifiersOf, type ChildRef, type SubjectIdentifier } from './identity';

const NHS: SubjectIdentifier = { kind: 'nhs-number', value: '9434765919' };
const UPN: SubjectIdentifier = { kind: 'upn', value: 'A950000178301' };
const FORMER_UPN: SubjectIdentifier = { kind: 'former-upn', value: 'H243278544154' };

const child = (childKey: string, foundedAt: bigint): ChildRef => ({ childKey, foundedAt });

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

describe('decideIdentity', () => {
  it('founds a new child for a record that matches nobody', () => {
    expect(decideIdentity({ streamId: 'health-a', identifiers: [NHS], matches: [] })).toEqual({
      childKey: childKeyOf('health-a'),
      founded: true,
      attach: { method: 'first-record' },
      merges: [],
    });
  });

  it('attaches a new record to the child that shares its NHS number, preferring it over a UPN', () => {
    const decision = decideIdentity({
      streamId: 'education-b',
      identifiers: [NHS, UPN],
      matches: [
        { identifier: UPN, child: child('ch_a', 1n) },
        { identifier: NHS, child: child('ch_a', 1n) },
      ],
    });
    expect(decision).toEqual({
      childKey: 'ch_a',
      founded: false,
      attach: { method: 'shared-nhs-number', evidenceValue: NHS.value },
      merges: [],
    });
  });

  it('treats a former UPN matching a current UPN as a shared UPN', () => {
    const decision = decideIdentity({
      streamId: 'education-c',
      identifiers: [FORMER_UPN],
      matches: [{ identifier: FORMER_UPN, child: child('ch_a', 4n) }],
    });
    expect(decision.attach).toEqual({ method: 'shared-upn', evidenceValue: FORMER_UPN.value });
  });

  it('merges two children a new record bridges into the one founded first', () => {
    const decision = decideIdentity({
      streamId: 'social-care-c',
      identifiers: [NHS, UPN],
      matches: [
        { identifier: UPN, child: child('ch_education', 2n) },
        { identifier: NHS, child: child('ch_health', 5n) },
      ],
    });
    expect(decision).toEqual({
      childKey: 'ch_education',
      founded: false,
      attach: { method: 'shared-upn', evidenceValue: UPN.value },
      merges: [
        { from: 'ch_health', into: 'ch_education', method: 'shared-nhs-number', evidenceValue: NHS.value },
      ],
    });
  });

  it("merges a known record's own child into an earlier child it now shares an identifier with", () => {
    const decision = decideIdentity({
      streamId: 'education-b',
      identifiers: [UPN, NHS],
      current: child('ch_education', 7n),
      matches: [{ identifier: NHS, child: child('ch_health', 3n) }],
    });
    expect(decision).toEqual({
      childKey: 'ch_health',
      founded: false,
      attach: undefined,
      merges: [
        { from: 'ch_education', into: 'ch_health', method: 'shared-nhs-number', evidenceValue: NHS.value },
      ],
    });
  });

  it('keeps a known record in its child when the earlier child is its own', () => {
    const decision = decideIdentity({
      streamId: 'health-a',
      identifiers: [NHS, UPN],
      current: child('ch_health', 1n),
      matches: [{ identifier: UPN, child: child('ch_education', 9n) }],
    });
    expect(decision.childKey).toBe('ch_health');
    expect(decision.merges).toEqual([
      { from: 'ch_education', into: 'ch_health', method: 'shared-upn', evidenceValue: UPN.value },
    ]);
  });

  it('decides the same whatever order the matches arrive in', () => {
    const matches = [
      { identifier: NHS, child: child('ch_x', 8n) },
      { identifier: UPN, child: child('ch_y', 3n) },
      { identifier: FORMER_UPN, child: child('ch_z', 5n) },
    ];
    const forwards = decideIdentity({ streamId: 's', identifiers: [NHS, UPN, FORMER_UPN], matches });
    const backwards = decideIdentity({
      streamId: 's',
      identifiers: [NHS, UPN, FORMER_UPN],
      matches: [...matches].reverse(),
    });
    expect(backwards).toEqual(forwards);
    expect(forwards.childKey).toBe('ch_y');
    expect(forwards.merges.map((merge) => merge.from)).toEqual(['ch_x', 'ch_z']);
  });
});
