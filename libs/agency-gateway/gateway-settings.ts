import { TokenVerifier } from '@throughline/access';
import type { Agency } from '@throughline/contracts';
import { publisherCredentials, ThroughlineError, topicNames, type Config } from '@throughline/platform';
import { looksLikeJwt, publisherOfPrincipal, PublisherKeyring, type Publisher } from './publication';

/** What one agency service is: its agency, its topic, how its publishers authenticate. Built once at start-up. */
export class GatewaySettings {
  readonly topic: string;
  /** Agency systems' client-credentials tokens, verified against OIDC_ISSUER. */
  readonly tokens: TokenVerifier;
  /** Static publisher keys: development only (THROUGHLINE_MODE=development), else none. */
  readonly keyring: PublisherKeyring | undefined;

  constructor(
    readonly agency: Agency,
    readonly config: Config,
  ) {
    this.topic = topicNames(config.KAFKA_TOPIC_PREFIX).agency[agency];
    this.tokens = TokenVerifier.fromConfig(config);
    const credentials = publisherCredentials(config);
    if (config.THROUGHLINE_MODE !== 'development' && credentials.length > 0) {
      throw new ThroughlineError(
        'CONFIGURATION',
        'PUBLISHER_KEYS: static publisher keys are refused outside THROUGHLINE_MODE=development; ' +
          'agency systems authenticate with client-credentials tokens from OIDC_ISSUER',
      );
    }
    this.keyring =
      config.THROUGHLINE_MODE === 'development' ? new PublisherKeyring(credentials, agency) : undefined;
  }

  /**
   * The publisher an `Authorization: Bearer …` header names: an agency system's access token for
   * this agency (401 if it does not verify, 403 if it is not this agency's), or in development a
   * static key.
   */
  async authenticate(authorization: string | undefined): Promise<Publisher> {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (bearer !== undefined && !looksLikeJwt(bearer) && this.keyring && this.keyring.size > 0)
      return this.keyring.authenticate(authorization);
    return publisherOfPrincipal(await this.tokens.verifyAuthorization(authorization), this.agency);
  }
}
