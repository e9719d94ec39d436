import { createHash, randomBytes } from 'node:crypto';
import { parse as parseCookies, serialize as serializeCookie, type SerializeOptions } from 'cookie';
import type { FastifyRequest } from 'fastify';
import type { Principal, SessionAuthenticator, TokenVerifier } from '@throughline/access';
import { ThroughlineError } from '@throughline/platform';
import type { PageOidcClient, PageTokens, PendingSignIn } from './page-oidc-client';

/**
 * The page's server-side sessions (docs/decisions/013-page-sessions.md). The browser holds only
 * a random 256-bit session id in an HttpOnly, SameSite=Strict cookie; the tokens stay here, in
 * memory (a restart signs everyone out; one instance, or sticky sessions, per page origin). Every
 * request re-verifies the session's access token with the app's TokenVerifier, so a session
 * principal is exactly as trusted as a bearer token's; the access token is renewed with the
 * refresh token when it expires, until the session is idle or old.
 */

/** A session unused this long ends (ms). */
export const SESSION_IDLE_MS = 30 * 60_000;
/** A session ends this long after sign-in, whatever its use (ms): people sign in each working day. */
export const SESSION_MAX_MS = 10 * 60 * 60_000;
/** A sign-in not completed in this long is forgotten (ms). */
export const SIGN_IN_TTL_MS = 10 * 60_000;
/** Renew the access token this long before it expires (ms), so a request never carries a dying one. */
const RENEW_BEFORE_MS = 30_000;
/** Sessions and pending sign-ins kept at most; past it the oldest go (memory stays bounded). */
const MAX_ENTRIES = 10_000;

const SESSION_COOKIE = 'throughline-session';
const SIGN_IN_COOKIE = 'throughline-sign-in';
const CALLBACK_PATH = '/auth/callback';

interface PageSession {
  principal: Principal;
  accessToken: string;
  refreshToken?: string;
  /** The access token's `exp`, in ms. */
  accessExpiresAt: number;
  readonly createdAt: number;
  lastSeenAt: number;
  /** One renewal at a time: the page's parallel requests must not spend a rotated refresh token twice. */
  renewing?: Promise<void>;
}

interface Pending extends PendingSignIn {
  readonly createdAt: number;
}

/** Ids are kept hashed: a memory dump or a log line of a key gives no cookie to replay. */
const keyOf = (id: string): string => createHash('sha256').update(id).digest('base64url');
const newId = (): string => randomBytes(32).toString('base64url');
const ID = /^[A-Za-z0-9_-]{43}$/;

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?$/i;

/** Adds to a bounded map, dropping the oldest entries past the bound. */
function boundedSet<V>(map: Map<string, V>, key: string, value: V): void {
  map.set(key, value);
  while (map.size > MAX_ENTRIES) map.delete(map.keys().next().value as string);
}

function expOf(accessToken: string): number {
  try {
    const payload = JSON.parse(
      Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as {
      exp?: unknown;
    };
    if (typeof payload.exp === 'number') return payload.exp * 1000;
  } catch {
    // verified before this is asked; a token without exp was refused there
  }
  return 0;
}

export interface PageSessionsOptions {
  readonly verifier: Pick<TokenVerifier, 'verify'>;
  readonly client: Pick<PageOidcClient, 'refresh' | 'revoke'>;
  /** PAGE_ORIGIN: the one origin the page is served at. Unset: the loopback origin a request came to. */
  readonly pageOrigin?: string;
  readonly now?: () => number;
}

/** The cookie's name: `__Host-` over TLS (Secure, Path=/, no Domain: no other host can set it). */
function cookieName(base: string, secure: boolean, prefix: '__Host-' | '__Secure-'): string {
  return secure ? `${prefix}${base}` : base;
}

export class PageSessions implements SessionAuthenticator {
  private readonly sessions = new Map<string, PageSession>();
  private readonly pending = new Map<string, Pending>();
  private readonly now: () => number;

  constructor(private readonly options: PageSessionsOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The origin the page is served at, for the redirect URI and same-origin checks: PAGE_ORIGIN,
   * else the request's own when it names this machine. Undefined otherwise (set PAGE_ORIGIN).
   */
  originOf(request: FastifyRequest): string | undefined {
    if (this.options.pageOrigin) return this.options.pageOrigin;
    const host = request.headers.host;
    if (!host || !LOOPBACK_HOST.test(host)) return undefined;
    return `${request.protocol}://${host}`;
  }

  /** Secure cookies when the page is served over TLS (here, or at PAGE_ORIGIN behind a proxy). */
  secure(request: FastifyRequest): boolean {
    return request.protocol === 'https' || (this.options.pageOrigin?.startsWith('https:') ?? false);
  }

  /**
   * A request a session may carry: from the page's own origin. A cross-site request never gets
   * the SameSite=Strict cookie; this also refuses a same-site but cross-origin one (another port
   * or subdomain) by its Origin and Sec-Fetch-Site headers.
   */
  sameOrigin(request: FastifyRequest): boolean {
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
    const origin = request.headers.origin;
    return origin === undefined || origin === this.originOf(request);
  }

  // -------------------------------------------------------------------------------------------
  // Sign-in

  /** Keeps a started sign-in; the cookie that names it goes back only to the callback. */
  startSignIn(request: FastifyRequest, pending: PendingSignIn): string {
    const id = newId();
    this.sweep();
    boundedSet(this.pending, keyOf(id), { ...pending, createdAt: this.now() });
    const secure = this.secure(request);
    // Lax, not Strict: the provider's redirect back is a cross-site navigation, which Strict would strip.
    return serializeCookie(cookieName(SIGN_IN_COOKIE, secure, '__Secure-'), id, {
      httpOnly: true,
      secure,
      sameSite: 'lax',
      path: CALLBACK_PATH,
      maxAge: SIGN_IN_TTL_MS / 1000,
    });
  }

  /** The sign-in this browser started (used once), and the cookie that clears it. */
  takeSignIn(request: FastifyRequest): { pending: PendingSignIn | undefined; clear: string } {
    const secure = this.secure(request);
    const name = cookieName(SIGN_IN_COOKIE, secure, '__Secure-');
    const clear = serializeCookie(name, '', {
      httpOnly: true,
      secure,
      sameSite: 'lax',
      path: CALLBACK_PATH,
      maxAge: 0,
    });
    const id = this.cookie(request, name);
    if (!id) return { pending: undefined, clear };
    const key = keyOf(id);
    const found = this.pending.get(key);
    this.pending.delete(key);
    if (!found || this.now() - found.createdAt > SIGN_IN_TTL_MS) return { pending: undefined, clear };
    return { pending: found, clear };
  }

  /**
   * A session for a verified sign-in; returns the Set-Cookie value. The principal comes from the
   * access token, verified as a bearer token would be.
   */
  async create(
    request: FastifyRequest,
    tokens: PageTokens,
  ): Promise<{ principal: Principal; cookie: string }> {
    const principal = await this.options.verifier.verify(tokens.accessToken);
    if (principal.kind !== 'person')
      throw new ThroughlineError('UNAUTHENTICATED', 'only people sign in to the page, not agency systems');
    const id = newId();
    const now = this.now();
    this.sweep();
    boundedSet(this.sessions, keyOf(id), {
      principal,
      accessToken: tokens.accessToken,
      ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
      accessExpiresAt: expOf(tokens.accessToken),
      createdAt: now,
      lastSeenAt: now,
    });
    return { principal, cookie: this.sessionCookie(request, id) };
  }

  /** Ends the request's session (and gives up its refresh token); returns the cookie that clears it. */
  async end(request: FastifyRequest): Promise<{ principal: Principal | undefined; cookie: string }> {
    const id = this.cookie(request, this.sessionCookieName(request));
    const key = id ? keyOf(id) : undefined;
    const session = key ? this.sessions.get(key) : undefined;
    if (key) this.sessions.delete(key);
    if (session?.refreshToken) await this.options.client.revoke(session.refreshToken);
    return { principal: session?.principal, cookie: this.sessionCookie(request, '', 0) };
  }

  // -------------------------------------------------------------------------------------------
  // Each request

  /**
   * The principal of the request's session (the access guard asks when there is no bearer
   * token): undefined when there is none, it ended, or the request is not from the page's origin.
   */
  async principalOf(request: FastifyRequest): Promise<Principal | undefined> {
    if (!this.sameOrigin(request)) return undefined;
    const id = this.cookie(request, this.sessionCookieName(request));
    if (!id) return undefined;
    const key = keyOf(id);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    const now = this.now();
    if (now - session.lastSeenAt > SESSION_IDLE_MS || now - session.createdAt > SESSION_MAX_MS) {
      this.sessions.delete(key);
      return undefined;
    }
    try {
      if (now >= session.accessExpiresAt - RENEW_BEFORE_MS) await this.renew(session);
      session.principal = await this.options.verifier.verify(session.accessToken);
    } catch (error) {
      // The provider down (UNAVAILABLE) is a 503 for this request; anything else ends the session.
      if (error instanceof ThroughlineError && error.code === 'UNAVAILABLE') throw error;
      this.sessions.delete(key);
      return undefined;
    }
    session.lastSeenAt = now;
    return session.principal;
  }

  /** Sessions held now (for tests and metrics). */
  get size(): number {
    return this.sessions.size;
  }

  private renew(session: PageSession): Promise<void> {
    const { refreshToken } = session;
    if (!refreshToken)
      return Promise.reject(new ThroughlineError('UNAUTHENTICATED', 'the session expired: sign in again'));
    session.renewing ??= this.options.client
      .refresh(refreshToken)
      .then((tokens) => {
        session.accessToken = tokens.accessToken;
        session.accessExpiresAt = expOf(tokens.accessToken);
        if (tokens.refreshToken) session.refreshToken = tokens.refreshToken;
      })
      .finally(() => {
        session.renewing = undefined;
      });
    return session.renewing;
  }

  private sessionCookieName(request: FastifyRequest): string {
    return cookieName(SESSION_COOKIE, this.secure(request), '__Host-');
  }

  /** No Max-Age: the browser forgets it when it closes (a shared computer keeps no sign-in). */
  private sessionCookie(request: FastifyRequest, value: string, maxAgeSeconds?: number): string {
    const secure = this.secure(request);
    const options: SerializeOptions = {
      httpOnly: true,
      secure,
      sameSite: 'strict',
      path: '/',
      ...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds }),
    };
    return serializeCookie(this.sessionCookieName(request), value, options);
  }

  private cookie(request: FastifyRequest, name: string): string | undefined {
    const header = request.headers.cookie;
    if (!header) return undefined;
    const value = parseCookies(header)[name];
    return value && ID.test(value) ? value : undefined;
  }

  /** Drops ended sessions and stale sign-ins (on each new one: no timer to stop). */
  private sweep(): void {
    const now = this.now();
    for (const [key, session] of this.sessions)
      if (now - session.lastSeenAt > SESSION_IDLE_MS || now - session.createdAt > SESSION_MAX_MS)
        this.sessions.delete(key);
    for (const [key, pending] of this.pending)
      if (now - pending.createdAt > SIGN_IN_TTL_MS) this.pending.delete(key);
  }
}
