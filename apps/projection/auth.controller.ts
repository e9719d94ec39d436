import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessLog, AccessPolicyStore, type Permission, type Principal } from '@throughline/access';
import { EdgeRoute, RouteAccess, ThroughlineError, ValidationError } from '@throughline/platform';
import { PageOidcClient } from './page-oidc-client';
import { PageSessions } from './page-session';

/** What the page shows in its header and offers in its purpose selector. */
export interface SignedIn {
  readonly userId: string;
  readonly name?: string;
  readonly organisation?: Principal['organisation'];
  readonly roles: readonly string[];
  /** The purposes the person's roles grant anything for, with what they grant. */
  readonly purposes: readonly { id: string; label: string; permissions: Permission[] }[];
}

/** Query parameters of the provider's redirect back (RFC 6749 4.1.2, RFC 9207 `iss`). */
const CALLBACK_PARAMS = new Set([
  'code',
  'state',
  'iss',
  'error',
  'error_description',
  'error_uri',
  'session_state',
]);

const NO_STORE = { 'cache-control': 'no-store' } as const;

function notSignedIn(): ThroughlineError {
  return new ThroughlineError('UNAUTHENTICATED', 'not signed in: sign in at /auth/login');
}

/**
 * The page's sign-in (backend-for-frontend; docs/decisions/013-page-sessions.md): authorization
 * code + PKCE with the page's confidential client, a server-side session, and an HttpOnly,
 * SameSite=Strict cookie that is all the browser holds. Public routes (the guard lets them
 * through); each checks what it needs itself. Not in /docs: browsers use them, not API clients.
 */
@ApiExcludeController()
@Controller('auth')
export class AuthController {
  constructor(
    private readonly sessions: PageSessions,
    private readonly client: PageOidcClient,
    private readonly log: AccessLog,
    private readonly policy: AccessPolicyStore,
  ) {}

  /** Sends the browser to the provider's sign-in, remembering (server-side) the PKCE verifier and state. */
  @Get('login')
  @RouteAccess({ public: true })
  @EdgeRoute({ rateLimit: 'sign-in' })
  async login(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const origin = this.originOf(request);
    const { url, pending } = await this.client.signIn(`${origin}/auth/callback`);
    const cookie = this.sessions.startSignIn(request, pending);
    await reply
      .code(303)
      .headers({ ...NO_STORE, location: url.href, 'set-cookie': cookie })
      .send();
  }

  /**
   * The provider's redirect back: the sign-in this browser started, its state, the code
   * exchanged (with the PKCE verifier and the client's secret), the access token verified as any
   * bearer token; then a session, its cookie, and back to the page.
   */
  @Get('callback')
  @RouteAccess({ public: true })
  @EdgeRoute({ rateLimit: 'sign-in' })
  async callback(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const { pending, clear } = this.sessions.takeSignIn(request);
    void reply.header('set-cookie', clear);
    const query = (request.query ?? {}) as Record<string, unknown>;
    try {
      const unknown = Object.keys(query).filter((name) => !CALLBACK_PARAMS.has(name));
      if (unknown.length > 0)
        throw new ValidationError(`query: unexpected parameter ${unknown.join(', ')}`, [
          {
            path: `query.${unknown[0]}`,
            rule: 'known-parameter',
            message: 'not a sign-in response parameter',
          },
        ]);
      if (!pending)
        throw new ValidationError(
          'no sign-in was started in this browser in the last 10 minutes: start again from the page',
          [
            {
              path: 'cookies.throughline-sign-in',
              rule: 'sign-in-started',
              message: 'start the sign-in from the page',
            },
          ],
        );
      if (query.error === 'access_denied') {
        // The person declined at the provider: back to the page, which says so.
        await this.record('sign-in', undefined, { outcome: 'DECLINED', refusal: 'declined at the provider' });
        await reply
          .code(303)
          .headers({ ...NO_STORE, location: '/#sign-in=declined' })
          .send();
        return;
      }
      for (const name of ['code', 'state'] as const)
        if (typeof query[name] !== 'string' && query.error === undefined)
          throw new ValidationError(`query.${name} is required`, [
            { path: `query.${name}`, rule: 'required', message: 'the provider sends it back' },
          ]);
      if (typeof query.state === 'string' && query.state !== pending.state)
        throw new ValidationError('query.state does not match the sign-in this browser started', [
          { path: 'query.state', rule: 'matches-sign-in', message: 'not the state this browser was given' },
        ]);
      const callbackUrl = new URL(pending.redirectUri);
      callbackUrl.search = new URL(request.url, 'http://callback.invalid').search;
      const tokens = await this.client.exchange(callbackUrl, pending);
      const { principal, cookie } = await this.sessions.create(request, tokens);
      await this.record('sign-in', principal, { outcome: 'ok' });
      await reply
        .code(303)
        .headers({ ...NO_STORE, location: '/', 'set-cookie': [clear, cookie] })
        .send();
    } catch (error) {
      const { code, message } =
        error instanceof ThroughlineError ? error : { code: 'INTERNAL', message: 'internal error' };
      await this.record('sign-in', undefined, { outcome: code, refusal: message });
      throw error;
    }
  }

  /**
   * Ends the session here (its refresh token revoked at the provider) and answers where to end
   * it at the provider too (RP-initiated logout), for the page to go there.
   */
  @Post('logout')
  @HttpCode(200)
  @RouteAccess({ public: true })
  async logout(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ signedOut: true; endSessionUrl?: string }> {
    if (!this.sessions.sameOrigin(request))
      throw new ThroughlineError('FORBIDDEN', 'sign-out is only taken from the page itself');
    const { principal, cookie } = await this.sessions.end(request);
    void reply.headers({ ...NO_STORE, 'set-cookie': cookie });
    if (principal) await this.record('sign-out', principal, { outcome: 'ok' });
    const origin = this.sessions.originOf(request);
    const endSession = origin ? await this.client.endSessionUrl(`${origin}/`) : undefined;
    return { signedOut: true, ...(endSession ? { endSessionUrl: endSession.href } : {}) };
  }

  /** Who is signed in, and the purposes their roles allow: the page's header and purpose selector. */
  @Get('me')
  @RouteAccess({ public: true }) // needs a session: checked here, as the guard would
  async me(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SignedIn> {
    void reply.headers(NO_STORE);
    const principal = await this.sessions.principalOf(request);
    if (!principal) throw notSignedIn();
    const { document } = this.policy.current();
    const roles = document.roles.filter((role) => principal.roles.includes(role.id));
    const purposes = document.purposes.flatMap((purpose) => {
      const permissions = [
        ...new Set(
          roles.flatMap((role) =>
            role.grants
              .filter((grant) => grant.purposes.includes(purpose.id))
              .map((grant) => grant.permission),
          ),
        ),
      ].sort();
      return permissions.length > 0 ? [{ id: purpose.id, label: purpose.label, permissions }] : [];
    });
    return {
      userId: principal.userId,
      ...(principal.name ? { name: principal.name } : {}),
      ...(principal.organisation ? { organisation: principal.organisation } : {}),
      roles: principal.roles,
      purposes,
    };
  }

  private originOf(request: FastifyRequest): string {
    const origin = this.sessions.originOf(request);
    if (!origin)
      throw new ThroughlineError(
        'CONFIGURATION',
        'PAGE_ORIGIN: set it to the origin people open the page at (only loopback origins are assumed)',
      );
    return origin;
  }

  /** Sign-ins and sign-outs go to the access log beside the reads they open (no child data). */
  private record(
    action: 'sign-in' | 'sign-out',
    principal: Principal | undefined,
    outcome: { outcome: string; refusal?: string },
  ): Promise<void> {
    return this.log.record({
      action,
      ...(principal ? { principal } : {}),
      policyVersion: this.policy.current().version,
      ...outcome,
    });
  }
}
