import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '@throughline/platform';
import { claimsMappingOf, principalOf, TokenVerifier, tokenVerifierSettings } from './index';

const mapping = claimsMappingOf(loadConfig({ THROUGHLINE_MODE: 'development' }));

const person = {
  sub: 'demo-school-dsl',
  client_id: 'throughline-cli',
  name: 'Owen Price',
  organisation: { code: '990201', type: 'school', name: 'Throughline Vale Academy' },
  roles: ['school-dsl'],
};

const system = {
  sub: 'demo-child-health-system',
  client_id: 'demo-child-health-system',
  agency: 'health',
  publisher_id: 'demo-child-health-system',
  source_systems: ['child-health-system'],
  organisation_codes: ['DEMO-CHS'],
};

describe('principalOf', () => {
  it('maps a person token through the claims mapping', () => {
    expect(principalOf(person, mapping)).toEqual({
      kind: 'person',
      userId: 'demo-school-dsl',
      name: 'Owen Price',
      organisation: { code: '990201', type: 'school', name: 'Throughline Vale Academy' },
      roles: ['school-dsl'],
      clientId: 'throughline-cli',
    });
  });

  it('maps a client-credentials token (sub = client_id, RFC 9068) to a system with its publishing scope', () => {
    expect(principalOf(system, mapping)).toEqual({
      kind: 'system',
      userId: 'demo-child-health-system',
      roles: [],
      clientId: 'demo-child-health-system',
      agency: 'health',
      publisherId: 'demo-child-health-system',
      sourceSystems: ['child-health-system'],
      organisationCodes: ['DEMO-CHS'],
    });
  });

  it('reads other claim names when configured (e.g. NHS CIS2-style role claims)', () => {
    const cis2 = claimsMappingOf(
      loadConfig({
        THROUGHLINE_MODE: 'development',
        OIDC_CLAIM_USER_ID: 'uid',
        OIDC_CLAIM_ORGANISATION: 'org_code',
        OIDC_CLAIM_ROLES: 'nhsid_nrbac_roles',
      }),
    );
    const principal = principalOf(
      { sub: 'opaque-1', uid: '555000111', org_code: 'RX1', nhsid_nrbac_roles: 'R8000 R8001' },
      cis2,
    );
    expect(principal).toMatchObject({
      kind: 'person',
      userId: '555000111',
      organisation: { code: 'RX1' },
      roles: ['R8000', 'R8001'],
    });
  });

  it.each([
    ['no sub', { ...person, sub: undefined }, /missing "sub"/],
    ['no organisation for a person', { ...person, organisation: undefined }, /missing organisation claim/],
    ['roles not strings', { ...person, roles: [1, 2] }, /"roles" must be a list of strings/],
    ['an unknown agency', { ...system, agency: 'police' }, /claim "agency"/],
    ['a control character in a claim', { ...person, sub: 'a\u0000b' }, /missing "sub"/],
  ])('refuses %s as UNAUTHENTICATED', (_, claims, reason) => {
    expect(() => principalOf(claims, mapping)).toThrow(
      expect.objectContaining({ code: 'UNAUTHENTICATED', message: expect.stringMatching(reason) }),
    );
  });
});

describe('token verifier configuration', () => {
  it('refuses HS* and none even if configured around the schema', () => {
    const settings = tokenVerifierSettings(loadConfig({ THROUGHLINE_MODE: 'development' }));
    expect(() => new TokenVerifier({ ...settings, algorithms: ['RS256', 'HS256'] })).toThrow(/HS256/);
    expect(() => new TokenVerifier({ ...settings, algorithms: ['none'] })).toThrow(/none/);
  });

  it('the schema accepts only asymmetric algorithms', () => {
    expect(() => loadConfig({ THROUGHLINE_MODE: 'development', OIDC_ALGORITHMS: 'RS256,HS256' })).toThrow(
      /OIDC_ALGORITHMS/,
    );
  });

  it('refuses a plain-http issuer that is not this machine', () => {
    expect(() =>
      tokenVerifierSettings(
        loadConfig({ THROUGHLINE_MODE: 'development', OIDC_ISSUER: 'http://idp.example.org' }),
      ),
    ).toThrow(/must be https/);
  });

  it('defaults the issuer to the local provider on OIDC_PORT', () => {
    expect(loadConfig({ THROUGHLINE_MODE: 'development', OIDC_PORT: '3999' }).OIDC_ISSUER).toBe(
      'http://127.0.0.1:3999',
    );
  });
});
