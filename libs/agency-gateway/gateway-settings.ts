import type { Agency } from '@throughline/contracts';
import { publisherCredentials, ThroughlineError, topicNames, type Config } from '@throughline/platform';
import { PublisherKeyring } from './publication';

/** What one agency service is: its agency, its topic, its publishers. Built once at start-up. */
export class GatewaySettings {
  readonly topic: string;
  readonly keyring: PublisherKeyring;

  constructor(
    readonly agency: Agency,
    readonly config: Config,
  ) {
    this.topic = topicNames(config.KAFKA_TOPIC_PREFIX).agency[agency];
    this.keyring = new PublisherKeyring(publisherCredentials(config), agency);
    if (this.keyring.size === 0) {
      throw new ThroughlineError(
        'CONFIGURATION',
        `PUBLISHER_KEYS: no key for agency ${agency}; nobody could publish`,
      );
    }
  }
}
