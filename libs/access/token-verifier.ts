import { ThroughlineError, UnavailableError, type Config } from '@throughline/platform';
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { claimsMappingOf, principalOf, type ClaimsMapping, type Principal } from './principal';

export interface TokenVerifierSettings {
  /** The `iss` accepted, exactly; its discovery document names the JWKS. */
  readonly issuer: string;
  readonly audience: string;
  /** Asymmetric JWS algorithms only (config refuses `none` and HS*). */
  readonly algorithms: readonly string[];
  /** Seconds of clock skew allowed on `exp` and `nbf`. */
  readonly clockToleranceSeconds: number;
  readonly claims: ClaimsMapping;
  /** Milliseconds one discovery or JWKS request may take. Default 5000. */
  readonly timeoutMs?: number;
}

/** How many verified tokens are remembered (about 1 KiB each). */
const VERIFIED_TOKENS_KEPT = 5_000;

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;
/** jose never accepts these, whatever a misconfiguration says; listed to refuse them by name. */
const FORBIDDEN_ALGORITHM = /^(none|HS\d+)$/i;

/** The verifier's settings from the configuration; refuses a plain-http issuer that is not this machine. */
export function tokenVerifierSettings(config: Config): TokenVerifierSettings {
  const issuer = new URL(config.OIDC_ISSUER);
  if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && LOOPBACK.test(issuer.hostname))) {
    throw new ThroughlineError(
      'CONFIGURATION',
      `OIDC_ISSUER: ${config.OIDC_ISSUER} must be https (plain http only for a provider on this machine)`,
    );
  }
  return {
    issuer: config.OIDC_ISSUER,
    audience: config.OIDC_AUDIENCE,
    algorithms: config.OIDC_ALGORITHMS,
    clockToleranceSeconds: config.OIDC_CLOCK_TOLERANCE_S,
    claims: claimsMappingOf(config),
  };
}

const unauthenticated = (reason: string, cause?: unknown): ThroughlineError =>
  new ThroughlineError('UNAUTHENTICATED', `access token refused: ${reason}`, {
    cause,
    details: { reason },
  });

/** What failed, in words that never repeat the token. */
function refusalOf(error: unknown, settings: TokenVerifierSettings): ThroughlineError {
  if (error instanceof ThroughlineError) return error;
  if (error instanceof errors.JWTExpired) return unauthenticated('expired (exp is in the past)', error);
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf':
        return unauthenticated('not yet valid (nbf is in the future)', error);
      case 'iat':
        return unauthenticated('issued in the future (iat)', error);
      case 'iss':
        return unauthenticated(`wrong issuer (iss is not ${settings.issuer})`, error);
      case 'aud':
        return unauthenticated(`wrong audience (aud does not include ${settings.audience})`, error);
      default:
        return unauthenticated(`claim "${error.claim}" ${error.reason}`, error);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return unauthenticated(`algorithm not allowed (accepted: ${settings.algorithms.join(', ')})`, error);
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return unauthenticated('signature verification failed', error);
  if (error instanceof errors.JWKSNoMatchingKey)
    return unauthenticated("no key of the issuer's JWKS matches the token's key id and algorithm", error);
  if (error instanceof errors.JWKSMultipleMatchingKeys)
    return unauthenticated("several keys of the issuer's JWKS match the token; it names no key id", error);
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)
    return new UnavailableError(`the issuer's JWKS could not be read: ${error.message}`, error);
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported
  )
    return unauthenticated('malformed token', error);
  if (error instanceof errors.JOSEError) return unauthenticated(`invalid token (${error.code})`, error);
  // A network failure fetching the JWKS: the token may be fine, so this is 503, not 401.
  return new UnavailableError("the issuer's JWKS could not be fetched", error);
}

interface DiscoveryDocument {
  readonly issuer?: unknown;
  readonly jwks_uri?: unknown;
}

/**
 * Verifies bearer access tokens against the issuer's JWKS (found through its discovery
 * document): signature with a pinned asymmetric algorithm, issuer, audience, expiry and
 * not-before, a subject; then maps the claims to a Principal. Every refusal is UNAUTHENTICATED
 * with a reason naming what failed; an unreachable issuer is UNAVAILABLE (retry later).
 */
export class TokenVerifier {
  private keys: Promise<JWTVerifyGetKey> | undefined;
  private readonly timeoutMs: number;
  /**
   * Tokens already verified, until their own `exp`: a signature check costs ~1 ms of CPU and a
   * client sends the same token for many requests. Nothing is accepted longer than verifying it
   * again would accept it (these tokens are not revocable before `exp` either way). Bounded; the
   * least recently used goes first (`lru-cache`, decision 037).
   */
  private readonly verified = new LRUCache<string, { principal: Principal; expiresAtMs: number }>({
    max: VERIFIED_TOKENS_KEPT,
  });

  constructor(private readonly settings: TokenVerifierSettings) {
    const forbidden = settings.algorithms.filter((alg) => FORBIDDEN_ALGORITHM.test(alg));
    if (forbidden.length > 0 || settings.algorithms.length === 0)
      throw new ThroughlineError(
        'CONFIGURATION',
        `OIDC_ALGORITHMS: ${forbidden.join(', ') || '(none)'} cannot verify access tokens`,
      );
    this.timeoutMs = settings.timeoutMs ?? 5_000;
  }

  static fromConfig(config: Config): TokenVerifier {
    return new TokenVerifier(tokenVerifierSettings(config));
  }

  /** The principal of an `Authorization` header value (`Bearer <token>`). */
  verifyAuthorization(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec((authorization ?? '').trim());
    if (!match)
      return Promise.reject(unauthenticated('missing "Authorization: Bearer <access token>" header'));
    return this.verify(match[1]);
  }

  async verify(token: string): Promise<Principal> {
    const known = this.verified.get(token);
    if (known && Date.now() < known.expiresAtMs) return known.principal;
    if (known) this.verified.delete(token);
    const keys = await this.jwks();
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: [...this.settings.algorithms],
        clockTolerance: this.settings.clockToleranceSeconds,
        requiredClaims: ['sub', 'exp'],
      });
      const principal = principalOf(payload, this.settings.claims);
      this.remember(token, principal, (payload.exp as number) * 1000);
      return principal;
    } catch (error) {
      throw refusalOf(error, this.settings);
    }
  }

  private remember(token: string, principal: Principal, expiresAtMs: number): void {
    this.verified.set(token, { principal, expiresAtMs });
  }

  /** The issuer's key set, found once through discovery (retried on the next call if it failed). */
  private jwks(): Promise<JWTVerifyGetKey> {
    this.keys ??= this.discover().catch((error: unknown) => {
      this.keys = undefined;
      throw error;
    });
    return this.keys;
  }

  private async discover(): Promise<JWTVerifyGetKey> {
    const url = `${this.settings.issuer}/.well-known/openid-configuration`;
    let document: DiscoveryDocument;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!response.ok) throw new Error(`answered ${response.status}`);
      document = (await response.json()) as DiscoveryDocument;
    } catch (error) {
      throw new UnavailableError(
        `the OpenID provider's discovery document (${url}) could not be read`,
        error,
      );
    }
    if (document.issuer !== this.settings.issuer) {
      throw new ThroughlineError(
        'CONFIGURATION',
        `OIDC_ISSUER: ${this.settings.issuer} publishes issuer ${String(document.issuer)}; they must be equal`,
      );
    }
    if (typeof document.jwks_uri !== 'string')
      throw new UnavailableError(`the discovery document at ${url} names no jwks_uri`);
    return createRemoteJWKSet(new URL(document.jwks_uri), { timeoutDuration: this.timeoutMs });
  }
}
