import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { kafkaCredentialsFile, loadConfig } from '@throughline/platform';
import {
  buildImmunisationGiven,
  grantKafkaAccess,
  startLocalOidcProvider,
  type LocalOidcProvider,
} from '@throughline/testing';
import { randomUUID } from 'node:crypto';
import { GatewaySettings } from './gateway-settings';
import { createAgencyApp, type PublishResponse, type RejectedResult, type RunningAgencyApp } from './index';

/**
 * Agency systems publish with client-credentials tokens from a real local OpenID provider,
 * scoped to their agency, source systems and organisations; the health service here runs in
 * production mode (no static keys at all) against the real broker at 127.0.0.1:9092.
 */

const PRODUCTION = {
  THROUGHLINE_MODE: 'production',
  CHILD_KEY_SALT: 'publisher-token-int-salt-0123456789',
  PUBLISHER_KEYS: '',
  LOG_LEVEL: 'warn',
  // Production names its Kafka principal explicitly: here, the local broker's generated file.
  KAFKA_CREDENTIALS_FILE: kafkaCredentialsFile(loadConfig({ THROUGHLINE_MODE: 'development' })),
};

let provider: LocalOidcProvider;
let running: RunningAgencyApp;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  provider = await startLocalOidcProvider();
  const config = loadConfig({
    ...PRODUCTION,
    ...provider.env,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    KAFKA_TOPIC_PREFIX: `it-gateway-token-${randomUUID().slice(0, 8)}.`,
    KAFKA_PARTITIONS: '1',
    HEALTH_PORT: '0',
  });
  await grantKafkaAccess(config); // the health service's own Kafka principal on this file's topics
  running = await createAgencyApp('health', config);
  for (const name of ['demo-child-health-system', 'demo-school-mis', 'demo-health-visitor'])
    tokens[name] = await provider.token(name);
});

afterAll(async () => {
  await running?.close();
  await provider?.stop();
});

async function post(path: string, body: unknown, token: string | null): Promise<Response> {
  return fetch(`${running.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  });
}

const healthEvent = (source: { system?: string; organisation?: string } = {}) =>
  buildImmunisationGiven({
    source: { agency: 'health', system: 'child-health-system', organisation: 'DEMO-CHS', ...source },
  });

describe('publishing with a client-credentials token', () => {
  it('accepts the health system for its own source system and organisation', async () => {
    const response = await post('/v1/events', healthEvent(), tokens['demo-child-health-system']);
    expect(response.status).toBe(202);
    expect(((await response.json()) as PublishResponse).accepted).toBe(1);
  });

  it('refuses no token and a token that does not verify with 401', async () => {
    for (const token of [null, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'not-a-key-in-production']) {
      const response = await post('/v1/events', healthEvent(), token);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: 'UNAUTHENTICATED' });
    }
  });

  it("refuses another agency's system with 403 (an education token on the health service)", async () => {
    const response = await post('/v1/events', healthEvent(), tokens['demo-school-mis']);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({
      error: 'FORBIDDEN',
      message: expect.stringMatching(/education, not to the health service/),
    });
  });

  it("refuses a person's token with 403", async () => {
    const response = await post('/v1/events', healthEvent(), tokens['demo-health-visitor']);
    expect(response.status).toBe(403);
  });

  it('rejects, per event, an organisation or source system the token does not name', async () => {
    const good = healthEvent();
    const otherTrust = healthEvent({ organisation: 'RX1' });
    const otherSystem = healthEvent({ system: 'someone-elses-system' });
    const noOrganisation = buildImmunisationGiven({
      source: { agency: 'health', system: 'child-health-system', organisation: undefined },
    });
    const response = await post(
      '/v1/events/batch',
      { events: [good, otherTrust, otherSystem, noOrganisation] },
      tokens['demo-child-health-system'],
    );
    expect(response.status).toBe(202);
    const body = (await response.json()) as PublishResponse;
    expect(body.accepted).toBe(1);
    expect(body.results.map((result) => result.status)).toEqual([
      'accepted',
      'rejected',
      'rejected',
      'rejected',
    ]);
    const issuesOf = (index: number) => (body.results[index] as RejectedResult).issues;
    expect(issuesOf(1)).toEqual([
      expect.objectContaining({ path: 'source.organisation', rule: 'not-authorised-for-publisher' }),
    ]);
    expect(issuesOf(2)).toEqual([
      expect.objectContaining({ path: 'source.system', rule: 'not-authorised-for-publisher' }),
    ]);
    expect(issuesOf(3)).toEqual([
      expect.objectContaining({ path: 'source.organisation', rule: 'not-authorised-for-publisher' }),
    ]);
  });
});

describe('static publisher keys', () => {
  it('are refused at start outside development', () => {
    const config = loadConfig({
      ...PRODUCTION,
      ...provider.env,
      PUBLISHER_KEYS: 'health:trust-system:9f1c2e7a41b0d3c5',
    });
    expect(() => new GatewaySettings('health', config)).toThrow(
      /static publisher keys are refused outside THROUGHLINE_MODE=development/,
    );
  });
});
