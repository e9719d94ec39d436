import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Consumer } from 'kafkajs';
import { createKafka, kafkaCredentialsFile, loadConfig, topicNames } from '@throughline/platform';
import type { ImportSummary } from '@throughline/returns';
import { cinCensusChunks, PLANTED } from '@throughline/synthetic';
import { grantKafkaAccess, startLocalOidcProvider, type LocalOidcProvider } from '@throughline/testing';
import { createAgencyApp, type RunningAgencyApp } from './index';

/**
 * POST /v1/imports on the social-care service, in production mode, with a client-credentials
 * token from a real OpenID provider and the real broker at 127.0.0.1:9092: a synthetic CIN
 * census goes through the service's own gateway to Kafka, and importing it again publishes the
 * same event ids.
 */

const PREFIX = `it-imports-${randomUUID().slice(0, 8)}.`;
const CHILDREN = 40;

let provider: LocalOidcProvider;
let running: RunningAgencyApp;
let consumer: Consumer;
const seen: string[] = [];
let token: string;
let otherToken: string;

const census = Buffer.from(
  [...cinCensusChunks({ children: CHILDREN, laCode: '991', collectionYear: '2024-25', seed: 7 })].join(''),
);

beforeAll(async () => {
  provider = await startLocalOidcProvider();
  const config = loadConfig({
    THROUGHLINE_MODE: 'production',
    CHILD_KEY_SALT: 'imports-int-salt-0123456789abcdef',
    PUBLISHER_KEYS: '',
    LOG_LEVEL: 'warn',
    KAFKA_CREDENTIALS_FILE: kafkaCredentialsFile(loadConfig({ THROUGHLINE_MODE: 'development' })),
    ...provider.env,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    KAFKA_TOPIC_PREFIX: PREFIX,
    KAFKA_PARTITIONS: '1',
    SOCIAL_CARE_PORT: '0',
  });
  await grantKafkaAccess(config);
  running = await createAgencyApp('social-care', config);
  token = await provider.token('demo-case-system');
  otherToken = await provider.token('demo-child-health-system');
  consumer = createKafka(
    loadConfig({ THROUGHLINE_MODE: 'development', KAFKA_TOPIC_PREFIX: PREFIX }),
    'test',
    {
      clientSuffix: 'imports-int-reader',
    },
  ).consumer({ groupId: `${PREFIX}reader` });
  await consumer.connect();
  await consumer.subscribe({ topic: topicNames(PREFIX).agency['social-care'], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(String(message.headers?.['event-id'] ?? ''));
    },
  });
}, 120_000);

afterAll(async () => {
  await consumer?.disconnect();
  await running?.close();
  await provider?.stop();
});

function upload(query: string, bearer: string | null, file: Buffer = census): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([file], { type: 'application/xml' }), 'cin-census-2024-25.xml');
  return fetch(`${running.url}/v1/imports?${query}`, {
    method: 'POST',
    headers: bearer === null ? {} : { authorization: `Bearer ${bearer}` },
    body: form,
  });
}

async function finished(status: string, bearer = token): Promise<ImportSummary> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const response = await fetch(`${running.url}${status}`, {
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(response.status).toBe(200);
    const summary = (await response.json()) as ImportSummary;
    if (summary.state !== 'running') return summary;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the import did not finish in 60 s');
}

async function waitForMessages(count: number): Promise<void> {
  for (let attempt = 0; attempt < 300 && seen.length < count; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('POST /v1/imports (social care, CIN census)', () => {
  let first: ImportSummary;

  it('imports every child, quarantines bad UPNs, refuses what cannot be read with its element, and publishes to Kafka', async () => {
    const response = await upload('format=cin-census', token);
    expect(response.status).toBe(202);
    const body = (await response.json()) as { id: string; status: string; summary: ImportSummary };
    expect(response.headers.get('location')).toBe(body.status);
    expect(body.summary.files[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    first = await finished(body.status);
    expect(first).toMatchObject({
      format: 'cin-census',
      state: 'completed',
      children: CHILDREN,
      eventsRejected: 0,
    });
    expect(first.eventsPublished).toBeGreaterThan(CHILDREN);
    expect(first.quarantined['upn-check-letter']).toBeGreaterThan(0);
    const outOfOrder = Array.from({ length: CHILDREN }, (_, index) => index).filter(PLANTED.datesOutOfOrder);
    expect(outOfOrder.length).toBeGreaterThan(0);
    expect(first.problems.length).toBeGreaterThan(0);
    for (const problem of first.problems) expect(problem.location).toMatch(/Child\[\d+\]/);
    await waitForMessages(first.eventsPublished);
    expect(seen.length).toBe(first.eventsPublished);
  });

  it('importing the same file again publishes the same event ids, so the store records nothing new', async () => {
    const before = new Set(seen);
    const response = await upload('format=cin-census', token);
    const again = await finished(((await response.json()) as { status: string }).status);
    expect(again.eventsPublished).toBe(first.eventsPublished);
    await waitForMessages(first.eventsPublished * 2);
    expect(new Set(seen)).toEqual(before);
  });

  it('refuses bad options before reading the upload, naming the parameter and rule', async () => {
    const cases: [string, string, string][] = [
      ['format=fhir-r4', 'query.format', 'format-of-agency'],
      ['format=nonsense', 'query.format', 'one-of'],
      ['format=cin-census&year=2024', 'query.year', 'pattern'],
      ['format=cin-census&la=99', 'query.la', 'pattern'],
    ];
    for (const [query, path, rule] of cases) {
      const response = await upload(query, token);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ issues: [{ path, rule }] });
    }
  });

  it('needs a publisher token of this agency, and shows an import only to the system that started it', async () => {
    expect((await upload('format=cin-census', null)).status).toBe(401);
    expect((await upload('format=cin-census', otherToken)).status).toBe(403);
    const response = await upload('format=cin-census', token, await readFile(__filename));
    const { status } = (await response.json()) as { status: string };
    const other = await fetch(`${running.url}${status}`, {
      headers: { authorization: `Bearer ${otherToken}` },
    });
    expect([403, 404]).toContain(other.status);
    // A file that is not a CIN census fails with its reason, and nothing is published.
    const summary = await finished(status);
    expect(summary.state).toBe('failed');
    expect(summary.error).toBeTruthy();
    expect(summary.eventsPublished).toBe(0);
  });
});
