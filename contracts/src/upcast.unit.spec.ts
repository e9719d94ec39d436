import { buildAttendanceSummarised, buildReferralReceived } from '@throughline/testing';
import { jsonSchemaOf } from './json-schema';
import { readAsCurrent, readStored, upcast, UPCASTERS, useStored, validateStored } from './upcast';
import { parseAgencyEvent } from './validate';
import { CONTRACT_VERSIONS, contractVersion, CURRENT_VERSION } from './versions';

const now = new Date('2030-01-01T00:00:00Z');

/** A version 1 attendance summary as the store holds it (JSON, as written in 2024). */
const storedV1 = JSON.stringify({
  eventId: '6c0c2f0e-2f51-4c57-9a57-3d0f1f4b2a10',
  type: 'education.attendance.summarised',
  schemaVersion: 1,
  occurredAt: '2024-12-20T16:00:00Z',
  source: { agency: 'education', system: 'school-mis', organisation: '123456' },
  subject: { recordId: 'edu-000123', upn: 'A123456789012', dateOfBirth: '2017-05-01' },
  data: {
    schoolUrn: '123456',
    academicYear: '2024/25',
    term: 'autumn',
    sessionsPossible: 140,
    authorisedAbsence: 6,
    unauthorisedAbsence: 3,
  },
});

/** Deeply frozen, as the shared read window hands events out. */
const frozen = <T>(value: T): T => {
  if (value !== null && typeof value === 'object') {
    for (const key in value) frozen((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
};

describe('versions and upcasting', () => {
  it('still accepts version 1 at intake, unchanged (the store keeps what the agency sent)', () => {
    const input = JSON.parse(storedV1);
    const parsed = parseAgencyEvent(input, { now, publishingAgency: 'education' });
    expect(parsed).toEqual({ ok: true, event: input });
  });

  it('reads a stored version 1 attendance summary as version 2', () => {
    const result = readAsCurrent(JSON.parse(storedV1), { now });
    expect(result.ok && result.storedVersion).toBe(1);
    if (!result.ok) throw new Error('refused');
    const original = JSON.parse(storedV1);
    expect(result.event).toEqual({
      ...original,
      schemaVersion: 2,
      data: { ...original.data, sessionsAttended: 131 },
    });
    // The upcast event is a valid version 2 event.
    expect(parseAgencyEvent(result.event, { now })).toEqual({ ok: true, event: result.event });
  });

  it('upcasts every v1 attendance summary to a valid v2 (sessions add up)', () => {
    for (let authorised = 0; authorised <= 20; authorised += 5) {
      const v1 = buildAttendanceSummarised({
        data: { sessionsPossible: 60, authorisedAbsence: authorised, unauthorisedAbsence: 40 - authorised },
      });
      const v2 = upcast(v1);
      expect(v2.schemaVersion).toBe(2);
      expect(parseAgencyEvent(v2, { now }).ok).toBe(true);
    }
  });

  it('passes a current version through untouched', () => {
    const referral = buildReferralReceived();
    expect(upcast(referral)).toBe(referral);
    const v2 = upcast(buildAttendanceSummarised());
    expect(upcast(v2)).toBe(v2);
  });

  it('refuses a version 2 summary whose sessions do not add up, naming the rule', () => {
    const v2 = upcast(buildAttendanceSummarised());
    if (v2.type !== 'education.attendance.summarised') throw new Error('not an attendance summary');
    const broken = { ...v2, data: { ...v2.data, sessionsAttended: v2.data.sessionsAttended + 1 } };
    const result = readAsCurrent(broken, { now });
    expect(result.ok === false && result.issues.map(({ path, rule }) => `${path} ${rule}`)).toEqual([
      'data.sessionsPossible sessions-add-up',
    ]);
  });

  it('has an upcaster for every superseded version, and no other', () => {
    const superseded = CONTRACT_VERSIONS.filter((entry) => entry.version < CURRENT_VERSION[entry.type]).map(
      (entry) => `${entry.type}@${entry.version}`,
    );
    expect(Object.keys(UPCASTERS).sort()).toEqual(superseded.sort());
    expect(superseded).toEqual(['education.attendance.summarised@1']);
  });

  it('numbers the versions of each type 1, 2, … without gaps', () => {
    for (const entry of CONTRACT_VERSIONS) {
      for (let version = 1; version <= entry.version; version++) {
        expect(contractVersion(entry.type, version)).toBeDefined();
      }
    }
  });

  it('publishes v2 with sessionsAttended required', () => {
    const v2 = contractVersion('education.attendance.summarised', 2);
    if (!v2) throw new Error('no v2');
    const data = (jsonSchemaOf(v2).properties as Record<string, { required: string[] }>).data;
    expect(data.required).toContain('sessionsAttended');
  });

  describe('readStored (one parse per stored event for all the read models of a process)', () => {
    it('reads a stored version 1 as written and as version 2, whatever the clock', () => {
      const result = readStored(JSON.parse(storedV1));
      if (!result.ok) throw new Error('refused');
      expect(result.stored).toEqual(JSON.parse(storedV1));
      expect(result.event).toEqual(readAsCurrent(JSON.parse(storedV1), { now }).ok && upcast(result.stored));
      expect(result.storedVersion).toBe(1);
      // An event dated after "now" is still read: a rebuild must not depend on when it runs.
      const future = { ...JSON.parse(storedV1), occurredAt: '2999-01-01T00:00:00Z' };
      expect(readStored(future).ok).toBe(true);
    });

    it('remembers the answer for a frozen input (as the shared read window hands out), frozen too', () => {
      const input = frozen(JSON.parse(storedV1));
      const first = readStored(input);
      expect(readStored(input)).toBe(first);
      if (!first.ok) throw new Error('refused');
      expect(Object.isFrozen(first.event)).toBe(true);
      expect(Object.isFrozen(first.event.data)).toBe(true);
      expect(Object.isFrozen(first.stored.subject)).toBe(true);
    });

    it('does not remember an input that may still change', () => {
      const input = JSON.parse(storedV1);
      const first = readStored(input);
      input.data.sessionsPossible = 'many';
      const second = readStored(input);
      expect(first.ok).toBe(true);
      expect(second.ok).toBe(false);
      if (second.ok) return;
      expect(second.issues.map((issue) => issue.path)).toContain('data.sessionsPossible');
    });

    it('remembers a refusal too, with the field and the rule', () => {
      const input = frozen({ ...JSON.parse(storedV1), schemaVersion: 99 });
      const first = readStored(input);
      expect(first.ok).toBe(false);
      expect(readStored(input)).toBe(first);
    });
  });

  describe('readStored of an event validated at intake (decision 034)', () => {
    const intake = { validatedAtIntake: true };
    /** Valid in its envelope, refused by its contract: the sessions do not add up. */
    const notAddingUp = () => {
      const input = JSON.parse(storedV1);
      input.data.unauthorisedAbsence = 500;
      return input;
    };

    it('takes the event as written, without validating it again, and upcasts it', () => {
      const input = notAddingUp();
      const trusted = readStored(input, intake);
      if (!trusted.ok) throw new Error('validated');
      expect(trusted.stored).toBe(input);
      expect(trusted.storedVersion).toBe(1);
      expect(trusted.event).toMatchObject({ schemaVersion: 2, data: { sessionsAttended: 140 - 6 - 500 } });
      // Without the recorder's word, the same event is validated and refused.
      const validated = readStored(input);
      expect(validated.ok).toBe(false);
      expect(validateStored(input).ok).toBe(false);
    });

    it('gives what validation gives for a valid event', () => {
      const input = JSON.parse(storedV1);
      expect(readStored(input, intake)).toEqual(validateStored(input));
      expect(readStored(input, intake)).toEqual(readStored(input));
    });

    it.each([
      ['a type the contracts do not know', { type: 'health.unknown' }, 'type'],
      ['a version never accepted', { schemaVersion: 99 }, 'schemaVersion'],
      ['a version that is not a number', { schemaVersion: '1' }, 'schemaVersion'],
      ['no subject', { subject: undefined }, 'subject'],
      ['a subject without its record', { subject: { upn: 'A123456789012' } }, 'subject.recordId'],
      ['a source without its agency', { source: { system: 'school-mis' } }, 'source.agency'],
      ['no time it happened', { occurredAt: 20241220 }, 'occurredAt'],
      ['a time that never was', { occurredAt: '2024-02-30T10:00:00Z' }, 'occurredAt'],
      [
        'a date of birth that never was',
        { subject: { recordId: 'edu-000123', upn: 'A123456789012', dateOfBirth: '2017-02-29' } },
        'subject.dateOfBirth',
      ],
      [
        'an expected date of birth that is not a date',
        { subject: { recordId: 'edu-000123', upn: 'A123456789012', expectedDateOfBirth: 'soon' } },
        'subject.expectedDateOfBirth',
      ],
      ['data that is not an object', { data: [] }, 'data'],
    ])('validates an event with %s all the same, and refuses it at the field', (_, change, path) => {
      const read = readStored({ ...JSON.parse(storedV1), ...change }, intake);
      expect(read.ok).toBe(false);
      if (read.ok) return;
      expect(read.issues.map((issue) => issue.path)).toContain(path);
    });

    it('remembers the answers for a frozen input apart: taken as validated, and validated', () => {
      const input = frozen(notAddingUp());
      const trusted = readStored(input, intake);
      const validated = readStored(input);
      expect(trusted.ok).toBe(true);
      expect(validated.ok).toBe(false);
      expect(readStored(input, intake)).toBe(trusted);
      expect(readStored(input)).toBe(validated);
    });

    it('useStored validates an event taken as validated that the reader fails on: refused if invalid, the error thrown if valid', () => {
      const fails = () => {
        throw new TypeError('the reader failed');
      };
      const refused = useStored(notAddingUp(), intake, fails);
      expect(refused.ok).toBe(false);
      if (refused.ok) return;
      expect(refused.issues.map((issue) => issue.rule)).toContain('absence-within-sessions-possible');
      expect(() => useStored(JSON.parse(storedV1), intake, fails)).toThrow('the reader failed');
      // Without the recorder's word the event was validated already: the reader's error is thrown.
      expect(() => useStored(JSON.parse(storedV1), {}, fails)).toThrow('the reader failed');
      const used = useStored(notAddingUp(), intake, (read) => read.storedVersion);
      expect(used.ok && used.value).toBe(1);
    });

    it('never remembers what validateStored answers', () => {
      const input = frozen(JSON.parse(storedV1));
      expect(validateStored(input)).not.toBe(validateStored(input));
    });
  });
});
