import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { ThroughlineError, UnavailableError, type Config } from '@throughline/platform';

/**
 * The page's side of OpenID Connect (openid-client): a confidential client that signs people in
 * with authorization code + PKCE and keeps their tokens on the server (backend-for-frontend),
 * so no token is ever where the page's script, or script injected into it, could read it.
 */

export interface PageClientSettings {
  readonly issuer: string;
  readonly clientId: string;
  /** Resolved at first use: the local provider may write its state after this app starts. */
  readonly clientSecret: () => string;
  /** Seconds one request to the provider may take. */
  readonly timeoutSeconds?: number;
}

/** What a sign-in keeps between sending the browser to the provider and its return. */
export interface PendingSignIn {
  readonly state: string;
  readonly codeVerifier: string;
  readonly redirectUri: string;
}

export interface PageTokens {
  readonly accessToken: string;
  readonly refreshToken?: string;
}

/** Asked of the person's provider: who they are (openid profile) and the API's own scope. */
export const PAGE_SCOPE = 'openid profile throughline:api';

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

function isLoopbackHttp(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'http:' && LOOPBACK.test(parsed.hostname);
}

/**
 * The page client's secret: OIDC_PAGE_CLIENT_SECRET, or, for the local provider on this machine,
 * the one it generated into $THROUGHLINE_CACHE/oidc/local-provider.json (as scripts/token.mjs
 * finds it). Never a secret from the repository.
 */
export function pageClientSecret(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  if (config.OIDC_PAGE_CLIENT_SECRET) return config.OIDC_PAGE_CLIENT_SECRET;
  if (!isLoopbackHttp(config.OIDC_ISSUER))
    throw new ThroughlineError(
      'CONFIGURATION',
      `OIDC_PAGE_CLIENT_SECRET: required for the page to sign people in at ${config.OIDC_ISSUER}`,
    );
  const cache = env.THROUGHLINE_CACHE || join(homedir(), '.cache', 'throughline');
  const file = join(cache, 'oidc', 'local-provider.json');
  let secret: unknown;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as { clientSecrets?: Record<string, unknown> };
    secret = state.clientSecrets?.[config.OIDC_PAGE_CLIENT_ID];
  } catch (error) {
    throw new ThroughlineError(
      'CONFIGURATION',
      `OIDC_PAGE_CLIENT_SECRET: unset, and the local provider's state (${file}) cannot be read: start it (npm start) or set the secret`,
      { cause: error },
    );
  }
  if (typeof secret !== 'string' || secret.length === 0)
    throw new ThroughlineError(
      'CONFIGURATION',
      `OIDC_PAGE_CLIENT_SECRET: unset, and ${file} holds no secret for client ${config.OIDC_PAGE_CLIENT_ID}`,
    );
  return secret;
}

export function pageClientSettings(config: Config, env: NodeJS.ProcessEnv = process.env): PageClientSettings {
  let secret: string | undefined;
  return {
    issuer: config.OIDC_ISSUER,
    clientId: config.OIDC_PAGE_CLIENT_ID,
    clientSecret: () => (secret ??= pageClientSecret(config, env)),
  };
}

/** The provider's refusal in words (its OAuth error code and description; never a token). */
function describe(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError || error instanceof oidc.AuthorizationResponseError)
    return `${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

/** The provider could not be reached (or did not answer as one): 503, retry later. */
function unreachable(error: unknown): boolean {
  return !(
    error instanceof oidc.ResponseBodyError ||
    error instanceof oidc.AuthorizationResponseError ||
    error instanceof oidc.WWWAuthenticateChallengeError ||
    error instanceof oidc.ClientError
  );
}

export class PageOidcClient {
  private configuration: Promise<oidc.Configuration> | undefined;

  constructor(private readonly settings: PageClientSettings) {}

  /** Where to send the browser, and what to keep until it returns. */
  async signIn(redirectUri: string): Promise<{ url: URL; pending: PendingSignIn }> {
    const configuration = await this.discovered();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      scope: PAGE_SCOPE,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    });
    return { url, pending: { state, codeVerifier, redirectUri } };
  }

  /**
   * The tokens for the provider's answer at the redirect URI (`callbackUrl`, with its query):
   * state, issuer and PKCE checked, the ID token validated by openid-client.
   */
  async exchange(callbackUrl: URL, pending: PendingSignIn): Promise<PageTokens> {
    const configuration = await this.discovered();
    try {
      const tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        idTokenExpected: true,
      });
      return {
        accessToken: tokens.access_token,
        ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      };
    } catch (error) {
      throw this.refusal('the sign-in', error);
    }
  }

  async refresh(refreshToken: string): Promise<PageTokens> {
    const configuration = await this.discovered();
    try {
      const tokens = await oidc.refreshTokenGrant(configuration, refreshToken);
      return {
        accessToken: tokens.access_token,
        // Rotated, or the same one kept when the provider does not rotate.
        refreshToken: tokens.refresh_token ?? refreshToken,
      };
    } catch (error) {
      throw this.refusal('renewing the session', error);
    }
  }

  /** Tells the provider a refresh token is no longer wanted; best effort (sign-out goes on regardless). */
  async revoke(refreshToken: string): Promise<void> {
    try {
      await oidc.tokenRevocation(await this.discovered(), refreshToken, { token_type_hint: 'refresh_token' });
    } catch {
      // The session is already gone here; the token expires on its own.
    }
  }

  /**
   * RP-initiated logout: the provider's end-session page for this client (client_id, no ID
   * token: the page never holds one), returning to `postLogoutRedirectUri`. Undefined when the
   * provider has no end-session endpoint.
   */
  async endSessionUrl(postLogoutRedirectUri: string): Promise<URL | undefined> {
    let configuration: oidc.Configuration;
    try {
      configuration = await this.discovered();
    } catch {
      return undefined;
    }
    if (!configuration.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(configuration, { post_logout_redirect_uri: postLogoutRedirectUri });
  }

  private refusal(what: string, error: unknown): ThroughlineError {
    if (error instanceof ThroughlineError) return error;
    if (unreachable(error))
      return new UnavailableError(
        `the OpenID provider could not complete ${what}: ${describe(error)}`,
        error,
      );
    return new ThroughlineError(
      'UNAUTHENTICATED',
      `the OpenID provider refused ${what}: ${describe(error)}`,
      {
        cause: error,
      },
    );
  }

  /** The provider's metadata, found once (retried on the next call if it failed). */
  private discovered(): Promise<oidc.Configuration> {
    this.configuration ??= this.discover().catch((error: unknown) => {
      this.configuration = undefined;
      throw error;
    });
    return this.configuration;
  }

  private async discover(): Promise<oidc.Configuration> {
    const { issuer, clientId, timeoutSeconds = 5 } = this.settings;
    const secret = this.settings.clientSecret();
    try {
      return await oidc.discovery(new URL(issuer), clientId, undefined, oidc.ClientSecretBasic(secret), {
        timeout: timeoutSeconds,
        // Plain http only to a provider on this machine (the config refuses it elsewhere).
        ...(isLoopbackHttp(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
    } catch (error) {
      throw new UnavailableError(
        `the OpenID provider at ${issuer} could not be discovered: ${describe(error)}`,
        error,
      );
    }
  }
}
