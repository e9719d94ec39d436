import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '@throughline/platform';
import { startLocalOidcProvider, type LocalOidcProvider } from '@throughline/testing';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  exportSPKI,
  generateKeyPair,
  importJWK,
  SignJWT,
  type JWK,
  type JWTPayload,
  type KeyLike,
} from 'jose';
import { TokenVerifier } from './index';

/**
 * The negative suite for access tokens, against a real local OpenID provider (infra/oidc.mjs)
 * started by this file, and a second, unrelated one. Valid tokens come from real grants
 * (scripts/token.mjs); the bad ones are forged with jose.
 */

let provider: LocalOidcProvider;
let otherProvider: LocalOidcProvider;
let verifier: TokenVerifier;

beforeAll(async () => {
  [provider, otherProvider] = await Promise.all([startLocalOidcProvider(), startLocalOidcProvider()]);
  verifier = TokenVerifier.fromConfig(loadConfig({ THROUGHLINE_MODE: 'development', ...provider.env }));
});

afterAll(async () => {
  await Promise.all([provider?.stop(), otherProvider?.stop()]);
});

const now = () => Math.floor(Date.now() / 1000);

/** The provider's own RSA signing key: a token it signs is genuine in every way but its claims. */
async function signWithProviderKey(
  claims: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  const jwk = provider.signingKeys().find((key) => key.kty === 'RSA');
  if (!jwk) throw new Error('the provider has no RSA key');
  const key = await importJWK(jwk as unknown as JWK, 'RS256');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'at+jwt', ...header })
    .sign(key);
}

function validClaims(overrides: JWTPayload = {}): JWTPayload {
  return {
    iss: provider.issuer,
    aud: 'throughline',
    sub: 'demo-social-worker',
    client_id: 'throughline-cli',
    iat: now(),
    exp: now() + 300,
    organisation: { code: '991', type: 'local-authority' },
    roles: ['social-worker'],
    ...overrides,
  };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function refusal(token: string): Promise<{ code: string; reason: string; message: string }> {
  try {
    await verifier.verify(token);
  } catch (error) {
    const { code, details, message } = error as {
      code: string;
      details: { reason: string };
      message: string;
    };
    return { code, reason: details?.reason, message };
  }
  throw new Error('the token was accepted');
}

describe('accepted', () => {
  it('a person token from the authorization code + PKCE flow, with the mapped claims', async () => {
    const token = await provider.token('demo-social-worker');
    await expect(verifier.verify(token)).resolves.toEqual({
      kind: 'person',
      userId: 'demo-social-worker',
      name: expect.stringContaining('social worker'),
      organisation: { code: '991', type: 'local-authority', name: expect.any(String) },
      roles: ['social-worker'],
      clientId: 'throughline-cli',
    });
  });

  it('an agency system token from the client-credentials grant, with its publishing scope', async () => {
    const token = await provider.token('demo-child-health-system');
    const principal = await verifier.verify(token);
    expect(principal).toMatchObject({
      kind: 'system',
      userId: 'demo-child-health-system',
      clientId: 'demo-child-health-system',
      agency: 'health',
      publisherId: 'demo-child-health-system',
      organisation: { code: 'DEMO-CHS', type: 'health' },
    });
    expect(principal.sourceSystems).toContain('child-health-system');
    expect(principal.organisationCodes).toContain('DEMO-CHS');
  });

  it('every demo person gets a token with an organisation and roles', async () => {
    for (const name of ['demo-health-visitor', 'demo-camhs-clinician', 'demo-analyst']) {
      const principal = await verifier.verify(await provider.token(name));
      expect(principal).toMatchObject({ kind: 'person', userId: name });
      expect(principal.roles.length).toBeGreaterThan(0);
    }
  });

  it('a token forged in the test with the provider key and good claims (the control for the cases below)', async () => {
    await expect(verifier.verify(await signWithProviderKey(validClaims()))).resolves.toMatchObject({
      userId: 'demo-social-worker',
    });
  });
});

describe('verified once, remembered until its own expiry', () => {
  it('answers a token seen before without verifying it again, and never past its exp', async () => {
    const token = await signWithProviderKey(validClaims({ exp: now() + 2 }));
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    // Past exp the remembered answer is dropped; verifying again is within the clock tolerance.
    const again = await verifier.verify(token);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});

describe('refused, each with its reason', () => {
  it('expired', async () => {
    const token = await signWithProviderKey(validClaims({ iat: now() - 600, exp: now() - 120 }));
    expect(await refusal(token)).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: expect.stringMatching(/expired/),
    });
  });

  it('within the clock tolerance an expiry a few seconds ago still passes', async () => {
    const token = await signWithProviderKey(validClaims({ exp: now() - 5 }));
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'demo-social-worker' });
  });

  it('not yet valid', async () => {
    const token = await signWithProviderKey(validClaims({ nbf: now() + 300 }));
    expect(await refusal(token)).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: expect.stringMatching(/not yet valid/),
    });
  });

  it('wrong audience', async () => {
    const token = await signWithProviderKey(validClaims({ aud: 'another-api' }));
    expect(await refusal(token)).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: expect.stringMatching(/wrong audience/),
    });
  });

  it('an ID token (audience = the client) is not an access token', async () => {
    const token = await signWithProviderKey(validClaims({ aud: 'throughline-cli' }));
    expect(await refusal(token)).toMatchObject({ reason: expect.stringMatching(/wrong audience/) });
  });

  it('wrong issuer', async () => {
    const token = await signWithProviderKey(validClaims({ iss: 'http://127.0.0.1:1' }));
    expect(await refusal(token)).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: expect.stringMatching(/wrong issuer/),
    });
  });

  it('forged signature: another key under the provider key id', async () => {
    const kid = provider.signingKeys().find((key) => key.kty === 'RSA')?.kid;
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
    expect(await refusal(token)).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: expect.stringMatching(/signature verification failed/),
    });
  });

  it('alg none', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(validClaims())}.`;
    expect(await refusal(token)).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: expect.stringMatching(/algorithm not allowed/),
    });
  });

  it('HS256 signed with the provider public key (algorithm confusion)', async () => {
    const jwk = provider.signingKeys().find((key) => key.kty === 'RSA');
    if (!jwk) throw new Error('no RSA key');
    const { kty, n, e, kid } = jwk;
    const publicPem = await exportSPKI((await importJWK({ kty, n, e }, 'RS256')) as KeyLike);
    const token = await new SignJWT(validClaims())
      .setProtectedHeader({ alg: 'HS256', kid })
      .sign(new TextEncoder().encode(publicPem));
    expect(await refusal(token)).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: expect.stringMatching(/algorithm not allowed/),
    });
  });

  it('unknown key id', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT(validClaims())
      .setProtectedHeader({ alg: 'RS256', kid: 'no-such-key' })
      .sign(privateKey);
    expect(await refusal(token)).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: expect.stringMatching(/no key/),
    });
  });

  it('a genuine token from another provider', async () => {
    const token = await otherProvider.token('demo-social-worker');
    expect(await refusal(token)).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: expect.stringMatching(/no key|wrong issuer/),
    });
  });

  it('missing sub', async () => {
    const token = await signWithProviderKey(validClaims({ sub: undefined }));
    expect(await refusal(token)).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: expect.stringMatching(/"sub"/),
    });
  });

  it('no expiry at all', async () => {
    const token = await signWithProviderKey(validClaims({ exp: undefined }));
    expect(await refusal(token)).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: expect.stringMatching(/"exp"/),
    });
  });

  it('garbage and a missing header', async () => {
    expect(await refusal('not.a.token')).toMatchObject({ reason: expect.stringMatching(/malformed/) });
    await expect(verifier.verifyAuthorization(undefined)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(verifier.verifyAuthorization('Basic abc')).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('never echoes the token in its message', async () => {
    const token = await signWithProviderKey(validClaims({ aud: 'another-api' }));
    const { message } = await refusal(token);
    expect(message).not.toContain(token.split('.')[1]);
  });
});

describe('npm run token', () => {
  const script = join(__dirname, '..', '..', 'scripts', 'token.mjs');

  it('prints only the token', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [script, 'demo-school-mis'], {
      env: { ...process.env, ...provider.env, THROUGHLINE_CACHE: provider.cacheDir },
    });
    expect(stdout).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
  });

  it('an unknown name is a clear error listing the demo users, exit 1', async () => {
    const failure = await promisify(execFile)(process.execPath, [script, 'demo-nobody'], {
      env: { ...process.env, ...provider.env, THROUGHLINE_CACHE: provider.cacheDir },
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1, stdout: '' });
    expect((failure as { stderr: string }).stderr).toMatch(/unknown demo user or system "demo-nobody"/);
    expect((failure as { stderr: string }).stderr).toMatch(/demo-social-worker/);
  });
});
