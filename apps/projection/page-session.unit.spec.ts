import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '@throughline/access';
import { loadConfig, ThroughlineError, UnavailableError } from '@throughline/platform';
import { pageClientSecret } from './page-oidc-client';
import { PageSessions, SESSION_IDLE_MS, SESSION_MAX_MS, SIGN_IN_TTL_MS } from './page-session';

const ORIGIN = 'http://127.0.0.1:3000';
const person: Principal = {
  kind: 'person',
  userId: 'demo-social-worker',
  organisation: { code: '991', type: 'local-authority' },
  roles: ['social-worker'],
};

/** An unsigned token shape with an `exp` (the fake verifier below is what decides). */
function tokenExpiringAt(ms: number, marker = 'a'): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part({ sub: marker, exp: Math.floor(ms / 1000) })}.c2ln`;
}

function request(headers: Record<string, string> = {}, protocol: 'http' | 'https' = 'http'): FastifyRequest {
  return { headers: { host: '127.0.0.1:3000', ...headers }, protocol } as unknown as FastifyRequest;
}

function cookieValue(setCookie: string): string {
  return setCookie.slice(setCookie.indexOf('=') + 1, setCookie.indexOf(';'));
}

function harness(pageOrigin?: string) {
  let now = 1_000_000_000_000;
  const verify = jest.fn(async (token: string) => {
    const exp = (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number }).exp;
    if (exp * 1000 <= now) throw new ThroughlineError('UNAUTHENTICATED', 'access token refused: expired');
    return person;
  });
  const refresh = jest.fn(async (refreshToken: string) => ({
    accessToken: tokenExpiringAt(now + 15 * 60_000, `renewed-${refreshToken}`),
    refreshToken: `${refreshToken}+`,
  }));
  const revoke = jest.fn(async () => {});
  const sessions = new PageSessions({
    verifier: { verify },
    client: { refresh, revoke },
    ...(pageOrigin ? { pageOrigin } : {}),
    now: () => now,
  });
  return {
    sessions,
    verify,
    refresh,
    revoke,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

async function signedIn(h: ReturnType<typeof harness>, refreshToken?: string): Promise<string> {
  const { cookie } = await h.sessions.create(request(), {
    accessToken: tokenExpiringAt(h.now() + 15 * 60_000),
    ...(refreshToken ? { refreshToken } : {}),
  });
  return `throughline-session=${cookieValue(cookie)}`;
}

describe('page sessions', () => {
  it('keep a started sign-in for its callback only, once, for ten minutes', () => {
    const h = harness();
    const pending = { state: 's', codeVerifier: 'v', redirectUri: `${ORIGIN}/auth/callback` };
    const cookie = h.sessions.startSignIn(request(), pending);
    expect(cookie).toMatch(
      /^throughline-sign-in=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/auth\/callback; HttpOnly; SameSite=Lax$/,
    );
    const back = request({ cookie: `throughline-sign-in=${cookieValue(cookie)}` });
    const taken = h.sessions.takeSignIn(back);
    expect(taken.pending).toEqual(expect.objectContaining(pending));
    expect(taken.clear).toMatch(/^throughline-sign-in=; Max-Age=0; Path=\/auth\/callback/);
    expect(h.sessions.takeSignIn(back).pending).toBeUndefined();

    const late = h.sessions.startSignIn(request(), pending);
    h.advance(SIGN_IN_TTL_MS + 1);
    expect(
      h.sessions.takeSignIn(request({ cookie: `throughline-sign-in=${cookieValue(late)}` })).pending,
    ).toBeUndefined();
    expect(h.sessions.takeSignIn(request({ cookie: 'throughline-sign-in=forged' })).pending).toBeUndefined();
  });

  it('give the browser an HttpOnly, SameSite=Strict session cookie, __Host- and Secure over TLS', async () => {
    const h = harness();
    const { cookie } = await h.sessions.create(request(), { accessToken: tokenExpiringAt(h.now() + 60_000) });
    expect(cookie).toMatch(/^throughline-session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    const tls = await h.sessions.create(request({}, 'https'), {
      accessToken: tokenExpiringAt(h.now() + 60_000),
    });
    expect(tls.cookie).toMatch(
      /^__Host-throughline-session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/,
    );
    const behindProxy = harness('https://throughline.example.org');
    const proxied = await behindProxy.sessions.create(request(), {
      accessToken: tokenExpiringAt(behindProxy.now() + 60_000),
    });
    expect(proxied.cookie).toMatch(/^__Host-throughline-session=.*; Secure; SameSite=Strict$/);
  });

  it('answer the principal for requests from the page origin only', async () => {
    const h = harness();
    const cookie = await signedIn(h);
    expect(await h.sessions.principalOf(request({ cookie }))).toEqual(person);
    expect(
      await h.sessions.principalOf(request({ cookie, origin: ORIGIN, 'sec-fetch-site': 'same-origin' })),
    ).toEqual(person);
    expect(
      await h.sessions.principalOf(request({ cookie, origin: 'http://127.0.0.1:4000' })),
    ).toBeUndefined();
    expect(await h.sessions.principalOf(request({ cookie, 'sec-fetch-site': 'same-site' }))).toBeUndefined();
    expect(await h.sessions.principalOf(request({ cookie, 'sec-fetch-site': 'cross-site' }))).toBeUndefined();
    expect(
      await h.sessions.principalOf(request({ cookie: `throughline-session=${'A'.repeat(43)}` })),
    ).toBeUndefined();
    expect(await h.sessions.principalOf(request())).toBeUndefined();
  });

  it('end when idle, when old, or when the token no longer verifies', async () => {
    const idle = harness();
    const idleCookie = await signedIn(idle, 'r');
    idle.advance(SESSION_IDLE_MS + 1);
    expect(await idle.sessions.principalOf(request({ cookie: idleCookie }))).toBeUndefined();
    expect(idle.sessions.size).toBe(0);

    const old = harness();
    const oldCookie = await signedIn(old, 'r');
    for (let spent = 0; spent <= SESSION_MAX_MS; spent += SESSION_IDLE_MS / 2) {
      old.advance(SESSION_IDLE_MS / 2);
      await old.sessions.principalOf(request({ cookie: oldCookie }));
    }
    expect(await old.sessions.principalOf(request({ cookie: oldCookie }))).toBeUndefined();

    const noRefresh = harness();
    const cookie = await signedIn(noRefresh);
    noRefresh.advance(15 * 60_000);
    expect(await noRefresh.sessions.principalOf(request({ cookie }))).toBeUndefined();
    expect(noRefresh.sessions.size).toBe(0);
  });

  it('renew an expiring access token once, however many requests ask at the same time', async () => {
    const h = harness();
    const cookie = await signedIn(h, 'refresh-1');
    h.advance(15 * 60_000 - 10_000);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => h.sessions.principalOf(request({ cookie }))),
    );
    expect(answers).toEqual(Array(5).fill(person));
    expect(h.refresh).toHaveBeenCalledTimes(1);
    expect(h.refresh).toHaveBeenCalledWith('refresh-1');
    // The rotated refresh token is the one used next time.
    h.advance(15 * 60_000 - 10_000);
    await h.sessions.principalOf(request({ cookie }));
    expect(h.refresh).toHaveBeenLastCalledWith('refresh-1+');
  });

  it('answer 503 when the provider cannot be reached, keeping the session', async () => {
    const h = harness();
    const cookie = await signedIn(h, 'r');
    h.verify.mockRejectedValueOnce(new UnavailableError('JWKS unreachable'));
    await expect(h.sessions.principalOf(request({ cookie }))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await h.sessions.principalOf(request({ cookie }))).toEqual(person);
  });

  it('sign out: the session is gone, its refresh token revoked, the cookie cleared', async () => {
    const h = harness();
    const cookie = await signedIn(h, 'refresh-9');
    const ended = await h.sessions.end(request({ cookie }));
    expect(ended.principal).toEqual(person);
    expect(ended.cookie).toMatch(/^throughline-session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(h.revoke).toHaveBeenCalledWith('refresh-9');
    expect(await h.sessions.principalOf(request({ cookie }))).toBeUndefined();
  });

  it('take the origin from PAGE_ORIGIN, or from a loopback Host only', () => {
    expect(harness().sessions.originOf(request())).toBe(ORIGIN);
    expect(harness().sessions.originOf(request({ host: 'throughline.example.org' }))).toBeUndefined();
    expect(harness('https://t.example.org').sessions.originOf(request({ host: 'evil.example' }))).toBe(
      'https://t.example.org',
    );
  });
});

describe("the page client's secret", () => {
  const base = { THROUGHLINE_MODE: 'development', OIDC_ISSUER: 'http://127.0.0.1:3010' };

  it('is OIDC_PAGE_CLIENT_SECRET when set', () => {
    expect(pageClientSecret(loadConfig({ ...base, OIDC_PAGE_CLIENT_SECRET: 'from-env' }), {})).toBe(
      'from-env',
    );
  });

  it("is read from the local provider's generated state for a loopback issuer", () => {
    const cache = mkdtempSync(join(tmpdir(), 'throughline-page-secret-'));
    try {
      mkdirSync(join(cache, 'oidc'));
      writeFileSync(
        join(cache, 'oidc', 'local-provider.json'),
        JSON.stringify({ clientSecrets: { 'throughline-page': 'generated' } }),
      );
      expect(pageClientSecret(loadConfig(base), { THROUGHLINE_CACHE: cache })).toBe('generated');
      expect(() =>
        pageClientSecret(loadConfig({ ...base, OIDC_PAGE_CLIENT_ID: 'other' }), { THROUGHLINE_CACHE: cache }),
      ).toThrow(/holds no secret for client other/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("is required for a deployment's own provider", () => {
    expect(() =>
      pageClientSecret(loadConfig({ ...base, OIDC_ISSUER: 'https://login.example.org' }), {}),
    ).toThrow(/OIDC_PAGE_CLIENT_SECRET: required/);
  });
});
