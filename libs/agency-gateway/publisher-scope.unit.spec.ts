import { describe, expect, it } from '@jest/globals';
import type { Principal } from '@throughline/access';
import { buildImmunisationGiven } from '@throughline/testing';
import {
  looksLikeJwt,
  publisherAuthorisationIssues,
  publisherOfPrincipal,
  validateEvents,
  type Publisher,
} from './publication';

const healthSystem: Principal = {
  kind: 'system',
  userId: 'demo-child-health-system',
  clientId: 'demo-child-health-system',
  roles: [],
  agency: 'health',
  publisherId: 'demo-child-health-system',
  sourceSystems: ['child-health-system'],
  organisationCodes: ['DEMO-CHS'],
};

const publisher: Publisher = publisherOfPrincipal(healthSystem, 'health');

const event = (source: { system?: string; organisation?: string }) =>
  buildImmunisationGiven({
    source: { agency: 'health', system: 'child-health-system', organisation: 'DEMO-CHS', ...source },
  });

describe('publisherOfPrincipal', () => {
  it("takes a system token's agency, publisher and lists", () => {
    expect(publisher).toEqual({
      agency: 'health',
      publisherId: 'demo-child-health-system',
      sourceSystems: ['child-health-system'],
      organisationCodes: ['DEMO-CHS'],
    });
  });

  it.each([
    ['another agency', { ...healthSystem, agency: 'education' as const }, /publishes for education/],
    ['a person', { ...healthSystem, kind: 'person' as const }, /only agency systems/],
    ['no publisher id', { ...healthSystem, publisherId: undefined }, /not registered as a publisher/],
  ])('refuses %s with FORBIDDEN', (_, principal, message) => {
    expect(() => publisherOfPrincipal(principal, 'health')).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN', message: expect.stringMatching(message) }),
    );
  });

  it('a token without lists may publish for nothing', () => {
    const bare = publisherOfPrincipal(
      { ...healthSystem, sourceSystems: undefined, organisationCodes: undefined },
      'health',
    );
    expect(publisherAuthorisationIssues(event({}), bare).map((issue) => issue.path)).toEqual([
      'source.system',
      'source.organisation',
    ]);
  });
});

describe('publisherAuthorisationIssues', () => {
  it('passes its own system and organisation', () => {
    expect(publisherAuthorisationIssues(event({}), publisher)).toEqual([]);
  });

  it("names another trust's organisation code, another system, and a missing organisation", () => {
    expect(publisherAuthorisationIssues(event({ organisation: 'RX1' }), publisher)).toEqual([
      {
        path: 'source.organisation',
        rule: 'not-authorised-for-publisher',
        message: 'publisher demo-child-health-system may not publish for organisation "RX1"',
      },
    ]);
    expect(publisherAuthorisationIssues(event({ system: 'pas' }), publisher)).toEqual([
      expect.objectContaining({ path: 'source.system', rule: 'not-authorised-for-publisher' }),
    ]);
    expect(publisherAuthorisationIssues(event({ organisation: undefined }), publisher)).toEqual([
      expect.objectContaining({ path: 'source.organisation', message: expect.stringMatching(/required/) }),
    ]);
  });

  it('a static development key (no lists) is not restricted', () => {
    expect(
      publisherAuthorisationIssues(event({ organisation: 'RX1' }), { agency: 'health', publisherId: 'dev' }),
    ).toEqual([]);
  });

  it('validateEvents rejects per event and keeps the rest', () => {
    const { valid, rejected } = validateEvents(
      [event({}), event({ organisation: 'RX1' })],
      'health',
      publisher,
    );
    expect(valid.map((v) => v.index)).toEqual([0]);
    expect(rejected).toEqual([expect.objectContaining({ index: 1, status: 'rejected' })]);
  });
});

describe('looksLikeJwt', () => {
  it('tells a JWT from a static key', () => {
    expect(looksLikeJwt('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')).toBe(true);
    expect(looksLikeJwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')).toBe(true);
    expect(looksLikeJwt('dev-health-key')).toBe(false);
  });
});
