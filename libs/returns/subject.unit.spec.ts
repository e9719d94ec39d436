import { describe, expect, it } from '@jest/globals';
import { makeNhsNumber, makeUpn, parseAgencyEvent } from '@throughline/contracts';
import { buildReferralReceived } from '@throughline/testing';
import { importedEventId } from './event-id';
import { normaliseUpn, returnRecordId, subjectFromReturn } from './subject';

const validUpn = makeUpn('202003456789');
const badUpn = `${validUpn.slice(0, -1)}${validUpn.endsWith('A') ? 'B' : 'A'}`;
const validNhs = makeNhsNumber('999000001') ?? makeNhsNumber('999000002')!;

describe('subjectFromReturn', () => {
  it('upper-cases a lower-case UPN and keeps it when the check letter is right', () => {
    const { subject, quarantined } = subjectFromReturn({ recordId: 'la991-C1', upn: validUpn.toLowerCase() });
    expect(subject.upn).toBe(validUpn);
    expect(quarantined).toEqual([]);
    expect(normaliseUpn(' a123 ')).toBe('A123');
  });

  it('quarantines a UPN failing its check letter, as reported, and keeps the rest of the subject', () => {
    const { subject, quarantined } = subjectFromReturn({
      recordId: 'la991-C2',
      upn: badUpn,
      laCode: '991',
      laChildId: 'C2',
      dateOfBirth: '2015-06-01',
    });
    expect(subject.upn).toBeUndefined();
    expect(subject.laChildId).toBe('C2');
    expect(subject.dateOfBirth).toBe('2015-06-01');
    expect(quarantined).toEqual([
      expect.objectContaining({ field: 'upn', value: badUpn, rule: 'upn-check-letter' }),
    ]);
    expect(subject.quarantinedIdentifiers).toEqual(quarantined);
  });

  it('quarantines an NHS number failing modulus 11 and one the source flags as unverified', () => {
    const wrong = `${validNhs.slice(0, 9)}${(Number(validNhs[9]) + 1) % 10}`;
    const failing = subjectFromReturn({ recordId: 'r1', nhsNumber: wrong });
    expect(failing.quarantined.map((q) => q.rule)).toEqual(['nhs-number-check-digit']);
    const unverified = subjectFromReturn({
      recordId: 'r2',
      nhsNumber: validNhs,
      untrusted: [
        { field: 'nhsNumber', rule: 'nhs-number-not-verified', message: 'status 02: not verified' },
      ],
    });
    expect(unverified.subject.nhsNumber).toBeUndefined();
    expect(unverified.quarantined).toEqual([
      expect.objectContaining({ field: 'nhsNumber', value: validNhs, rule: 'nhs-number-not-verified' }),
    ]);
  });

  it('drops a malformed date of birth with its rule instead of losing the child', () => {
    const { subject, dropped } = subjectFromReturn({ recordId: 'r3', dateOfBirth: '2015-13-45' });
    expect(subject.dateOfBirth).toBeUndefined();
    expect(dropped).toEqual([expect.objectContaining({ field: 'subject.dateOfBirth' })]);
  });

  it('an event with a quarantined UPN passes the contracts; one giving and quarantining the same field does not', () => {
    const { subject } = subjectFromReturn({ recordId: 'r4', upn: badUpn });
    const event = buildReferralReceived({ subject });
    expect(parseAgencyEvent(event).ok).toBe(true);
    const both = buildReferralReceived({ subject: { ...subject, upn: validUpn } });
    const result = parseAgencyEvent(both);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((issue) => issue.rule)).toContain('quarantined-or-valid');
  });
});

describe('returnRecordId', () => {
  it('is the same for one LA child id and keeps distinct ids distinct', () => {
    expect(returnRecordId('991', 'DEF123')).toBe('la991-DEF123');
    expect(returnRecordId('991', 'A/1')).not.toBe(returnRecordId('991', 'A_1'));
    expect(returnRecordId('991', 'A/1')).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
  });
});

describe('importedEventId', () => {
  it('depends on the natural key, not on anything else', () => {
    const a = importedEventId('cin-census', '991', 'C1', 'referral', '2023-05-01');
    expect(importedEventId('cin-census', '991', 'C1', 'referral', '2023-05-01')).toBe(a);
    expect(importedEventId('ssda903', '991', 'C1', 'referral', '2023-05-01')).not.toBe(a);
    expect(importedEventId('cin-census', '991', 'C1', 'referral', '2023-05-02')).not.toBe(a);
    // The separator inside a part cannot make two keys collide.
    expect(importedEventId('cin-census', '991', 'C1|x', 'y')).not.toBe(
      importedEventId('cin-census', '991', 'C1', 'x|y'),
    );
  });
});
