import { parseAgencyEvent, parseAgencyEventBytes } from './validate';

const referral = () => ({
  eventId: '3f1c2a9e-8d6b-4b7a-9c1e-2d3f4a5b6c7d',
  type: 'social-care.referral.received',
  schemaVersion: 1,
  occurredAt: '2024-03-04T10:15:00Z',
  source: { agency: 'social-care', system: 'case-system', organisation: '926' },
  subject: {
    recordId: 'LA926-000123',
    laChildId: '000123',
    laCode: '926',
    nhsNumber: '9434765919',
    dateOfBirth: '2019-05-01',
  },
  data: { referralDate: '2024-03-04', referralSource: '2A', primaryNeed: 'N1', noFurtherAction: false },
});

const now = new Date('2025-01-01T00:00:00Z');

describe('parseAgencyEvent', () => {
  it('accepts a valid referral', () => {
    const result = parseAgencyEvent(referral(), { now });
    expect(result).toEqual({ ok: true, event: referral() });
  });

  it('names the field and the rule of every broken rule', () => {
    const input = referral();
    input.subject.nhsNumber = '9434765918';
    (input.data as Record<string, unknown>).primaryNeed = 'N12';
    (input.data as Record<string, unknown>).colour = 'red';
    const result = parseAgencyEvent(input, { now });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map(({ path, rule }) => ({ path, rule }))).toEqual(
      expect.arrayContaining([
        { path: 'subject.nhsNumber', rule: 'nhs-number-check-digit' },
        { path: 'data.primaryNeed', rule: 'one-of' },
        { path: 'data.colour', rule: 'unknown-field' },
      ]),
    );
    expect(result.issues).toHaveLength(3);
  });

  it('refuses a type the publishing agency does not own', () => {
    const result = parseAgencyEvent(referral(), { now, publishingAgency: 'health' });
    expect(result).toEqual({
      ok: false,
      issues: [
        {
          path: 'type',
          rule: 'publisher-agency',
          message: 'health may not publish social-care.referral.received',
        },
      ],
    });
  });

  it('lets any agency publish an outcome observation, from its own source only', () => {
    const observation = {
      ...referral(),
      type: 'outcome.observation.recorded',
      source: { agency: 'education', system: 'school-mis' },
      data: {
        framework: 'ecm',
        domain: 'enjoy-and-achieve',
        perspective: 'professional',
        observerRole: 'class teacher',
        observedOn: '2024-03-01',
        narrative: 'Settling well after the move; reading with a volunteer twice a week.',
        rating: { scale: 'outcomes-star', value: 6, min: 1, max: 10 },
        confidence: 'medium',
      },
    };
    expect(parseAgencyEvent(observation, { now, publishingAgency: 'education' }).ok).toBe(true);
    const wrong = parseAgencyEvent(observation, { now, publishingAgency: 'health' });
    expect(wrong.ok === false && wrong.issues).toEqual([
      {
        path: 'source.agency',
        rule: 'publisher-agency',
        message: 'source.agency must be health on this service',
      },
    ]);
  });

  it('rejects an unknown event type and dates before birth or in the future', () => {
    const unknown = parseAgencyEvent({ ...referral(), type: 'social-care.gossip' }, { now });
    expect(unknown.ok === false && unknown.issues.map((i) => i.rule)).toEqual(['known-event-type']);
    const early = parseAgencyEvent({ ...referral(), occurredAt: '2018-01-01T00:00:00Z' }, { now });
    expect(early.ok === false && early.issues.map((i) => i.rule)).toEqual(['not-before-birth']);
    const future = parseAgencyEvent({ ...referral(), occurredAt: '2025-01-03T00:00:00Z' }, { now });
    expect(future.ok === false && future.issues.map((i) => i.rule)).toEqual(['not-in-future']);
  });

  it('checks every date of the data too, not only occurredAt', () => {
    const input = referral();
    input.data.referralDate = '2025-01-05';
    const future = parseAgencyEvent(input, { now });
    expect(future.ok === false && future.issues.map(({ path, rule }) => `${path} ${rule}`)).toEqual([
      'data.referralDate not-in-future',
    ]);
    input.data.referralDate = '2019-04-30';
    const early = parseAgencyEvent(input, { now });
    expect(early.ok === false && early.issues.map(({ path, rule }) => `${path} ${rule}`)).toEqual([
      'data.referralDate not-before-birth',
    ]);
  });

  it('reads a stored event whatever the clock says when the future rule is switched off', () => {
    const input = { ...referral(), occurredAt: '2030-01-03T00:00:00Z' };
    input.data.referralDate = '2030-01-02';
    expect(parseAgencyEvent(input, { now }).ok).toBe(false);
    const stored = parseAgencyEvent(input, { now, futureToleranceMs: Infinity });
    expect(stored).toMatchObject({ ok: true, event: { occurredAt: '2030-01-03T00:00:00Z' } });
  });

  it('reports a missing code-list field as required, not as a wrong code', () => {
    const input = referral();
    delete (input.data as Partial<typeof input.data>).referralSource;
    const result = parseAgencyEvent(input, { now });
    expect(result.ok === false && result.issues).toEqual([
      { path: 'data.referralSource', rule: 'required', message: 'data.referralSource is required' },
    ]);
  });

  it('rejects text holding a NUL character, which PostgreSQL cannot store', () => {
    const input = referral();
    (input.data as Record<string, unknown>).narrative = 'before\u0000after';
    const result = parseAgencyEvent(input, { now });
    expect(result.ok === false && result.issues).toEqual([
      {
        path: 'data.narrative',
        rule: 'no-nul-character',
        message: 'text must not contain the NUL character (U+0000)',
      },
    ]);
  });

  it('reports bytes that are not JSON', () => {
    const result = parseAgencyEventBytes(Buffer.from('\u0000\u00ffgarbage'));
    expect(result.ok === false && result.issues[0].rule).toBe('json');
  });
});
