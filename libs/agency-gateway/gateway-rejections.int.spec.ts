import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Pool } from 'pg';
import {
  createKafka,
  createPool,
  gatewayRejectionsGroup,
  gatewayRejectionsTopic,
  loadConfig,
} from '@throughline/platform';
import { GatewayRejectionRecorder, GatewayRejections, PostgresDeadLetters } from '@throughline/recording';
import {
  buildImmunisationGiven,
  createTestDatabase,
  freshNhsNumber,
  grantKafkaAccess,
  startLocalOidcProvider,
  waitFor,
  type LocalOidcProvider,
  type TestDatabase,
} from '@throughline/testing';
import { logLevel } from 'kafkajs';
import { createAgencyApp, GatewayRejectionNotes, type PublishResponse, type RunningAgencyApp } from './index';

/**
 * The rejection path on the real broker, PostgreSQL and OpenID provider: the health service
 * rejects events, notes each (no payload) on the gateway-rejections topic as its own principal,
 * and the recorder's consumer keeps one row per rejected event in gateway_rejections.
 */

const prefix = `it-gw-rejections-${randomUUID().slice(0, 8)}.`;
let provider: LocalOidcProvider;
let database: TestDatabase;
let running: RunningAgencyApp;
let pool: Pool;
let deadLetters: PostgresDeadLetters;
let consumer: GatewayRejectionRecorder;
const config = () =>
  loadConfig({
    ...provider.env,
    THROUGHLINE_MODE: 'development',
    PUBLISHER_KEYS: '',
    LOG_LEVEL: 'error',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    KAFKA_TOPIC_PREFIX: prefix,
    RECORDER_GROUP_ID: `${prefix}recorder`,
    KAFKA_PARTITIONS: '1',
    HEALTH_PORT: '0',
  });

beforeAll(async () => {
  provider = await startLocalOidcProvider();
  database = await createTestDatabase('tl_gateway_rejections');
  await grantKafkaAccess(config());
  // The recording migrations (gateway_rejections) as the owner; the consumer works as the app role.
  deadLetters = await PostgresDeadLetters.create({
    connectionString: database.appUrl,
    ownerConnectionString: database.url,
  });
  pool = createPool(database.appUrl);
  consumer = new GatewayRejectionRecorder({
    kafka: createKafka(config(), 'recorder', { clientSuffix: 'it-gateway-rejections' }),
    rejections: new GatewayRejections(pool),
    topic: gatewayRejectionsTopic(prefix),
    groupId: gatewayRejectionsGroup(config().RECORDER_GROUP_ID),
  });
  consumer.start();
  running = await createAgencyApp('health', config());
}, 120_000);

afterAll(async () => {
  await running?.close();
  await consumer?.stop();
  await pool?.end();
  await deadLetters?.close();
  await database?.drop();
  await provider?.stop();
});

describe('gateway rejections', () => {
  it('are kept one row per rejected event, with publisher, type, rules and paths, never the payload', async () => {
    const nhsNumber = freshNhsNumber();
    const valid = buildImmunisationGiven({
      source: { agency: 'health', system: 'child-health-system', organisation: 'DEMO-CHS' },
      subject: { nhsNumber },
    });
    const missingData = { ...valid, eventId: randomUUID(), data: undefined };
    const otherTrust = buildImmunisationGiven({
      source: { agency: 'health', system: 'child-health-system', organisation: 'RX1' },
      subject: { nhsNumber },
    });
    const token = await provider.token('demo-child-health-system');
    const response = await fetch(`${running.url}/v1/events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ events: [valid, missingData, otherTrust] }),
    });
    expect(response.status).toBe(202);
    expect((await response.json()) as PublishResponse).toMatchObject({ accepted: 1, rejected: 2 });

    await running.app.get(GatewayRejectionNotes).idle();
    let rows: Record<string, unknown>[] = [];
    await waitFor(
      async () => {
        rows = (
          await pool.query(
            `SELECT agency, publisher, source_system, source_organisation, event_type, schema_version, rules,
                    issues, rejected_at, row_to_json(g)::text AS whole
             FROM gateway_rejections g ORDER BY id`,
          )
        ).rows;
        return rows.length >= 2;
      },
      { timeoutMs: 60_000, message: 'two gateway rejections kept' },
    );
    expect(rows).toHaveLength(2);
    const byOrganisation = Object.fromEntries(rows.map((row) => [row.source_organisation, row]));
    expect(byOrganisation['DEMO-CHS']).toMatchObject({
      agency: 'health',
      publisher: 'demo-child-health-system',
      source_system: 'child-health-system',
      event_type: 'health.immunisation.given',
      schema_version: valid.schemaVersion,
      rules: ['required'],
      issues: [{ path: 'data', rule: 'required' }],
    });
    expect(byOrganisation.RX1).toMatchObject({
      publisher: 'demo-child-health-system',
      rules: ['not-authorised-for-publisher'],
      issues: [{ path: 'source.organisation', rule: 'not-authorised-for-publisher' }],
    });
    for (const row of rows) {
      expect(row.rejected_at).toBeInstanceOf(Date);
      // Nothing of the events' content: no identifier, record id, event id or data.
      for (const value of [nhsNumber, valid.subject.recordId, missingData.eventId, otherTrust.eventId, 'MMR'])
        expect(row.whole).not.toContain(value);
    }
  }, 90_000);

  it('cannot be changed or forged: the app role only inserts, the recorder may not write the topic', async () => {
    await expect(pool.query(`UPDATE gateway_rejections SET publisher = 'someone else'`)).rejects.toThrow(
      /permission denied/,
    );
    const kafka = createKafka(config(), 'recorder', {
      clientSuffix: 'it-gateway-rejections-forger',
      retry: { retries: 0 },
    });
    kafka.logger().setLogLevel(logLevel.NOTHING);
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      await expect(
        producer.send({ topic: gatewayRejectionsTopic(prefix), messages: [{ value: '{}' }] }),
      ).rejects.toMatchObject({ type: 'TOPIC_AUTHORIZATION_FAILED' });
    } finally {
      await producer.disconnect();
    }
  }, 60_000);
});
