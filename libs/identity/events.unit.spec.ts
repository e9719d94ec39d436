import {
  identityStreamOf,
  parseIdentityEvent,
  proposalStreamOf,
  subjectsOfIdentityEvent,
  uuidV5,
} from './events';

const linked = {
  subject: 'education-pupil-1',
  linkedTo: 'health-chs-1',
  method: 'shared-nhs-number',
  shared: [{ kind: 'nhs-number', value: '9434765919' }],
  by: { type: 'linker' },
  at: '2024-03-05T09:00:00.000Z',
};

describe('uuidV5', () => {
  it('matches the RFC 9562 name-based UUID for a known name and namespace', () => {
    // DNS namespace, "www.example.com" (the widely published v5 example).
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('gives the same id for the same name, and another for another name', () => {
    expect(uuidV5('linked|e1|a|b')).toBe(uuidV5('linked|e1|a|b'));
    expect(uuidV5('linked|e1|a|b')).not.toBe(uuidV5('linked|e2|a|b'));
    expect(uuidV5('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('parseIdentityEvent', () => {
  it('reads a linked event and names the records it is about', () => {
    const event = parseIdentityEvent('identity.subject.linked', linked);
    expect(event.type).toBe('identity.subject.linked');
    expect(subjectsOfIdentityEvent(event)).toEqual(['education-pupil-1', 'health-chs-1']);
  });

  it('names the field and the rule of bad data', () => {
    expect(() =>
      parseIdentityEvent('identity.subject.unlinked', {
        subject: 'police-1',
        formerChildKey: 'ch_1',
        formerMembers: [],
        reason: '',
        by: { type: 'linker' },
        at: '2024-03-05T09:00:00Z',
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'VALIDATION',
        issues: expect.arrayContaining([
          expect.objectContaining({ path: 'data.subject', rule: 'pattern' }),
          expect.objectContaining({ path: 'data.reason', rule: 'min-length' }),
        ]),
      }),
    );
    expect(() => parseIdentityEvent('identity.subject.renamed', {})).toThrow(
      expect.objectContaining({
        issues: [expect.objectContaining({ path: 'type', rule: 'identity-event-type' })],
      }),
    );
  });
});

describe('stream names', () => {
  it('keeps a record’s judgements in identity-<record stream> and a proposal in identitymatch-<id>', () => {
    expect(identityStreamOf('health-chs-1')).toBe('identity-health-chs-1');
    expect(proposalStreamOf('5c1d…')).toBe('identitymatch-5c1d…');
  });
});
