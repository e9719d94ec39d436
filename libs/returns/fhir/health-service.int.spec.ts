import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { createAgencyApp, type RunningAgencyApp } from '@throughline/agency-gateway';
import type { AgencyEvent } from '@throughline/contracts';
import { createKafka, kafkaCredentialsFile, loadConfig, topicNames } from '@throughline/platform';
import { fhirBundle, fhirResourcesOf, generateCohort } from '@throughline/synthetic';
import { grantKafkaAccess, startLocalOidcProvider, type LocalOidcProvider } from '@throughline/testing';
import type { ImportSummary } from '../importer';

/**
 * POST /v1/imports on the health service with a FHIR Bundle: production mode, a
 * client-credentials token from a real OpenID provider, the real broker at 127.0.0.1:9092.
 * The events go through the service's own gateway (contracts, publisher rules) to Kafka;
 * the same records again as XML publish the same event ids.
 */

const PREFIX = `it-fhir-imports-${randomUUID().slice(0, 8)}.`;

let provider: LocalOidcProvider;
let running: RunningAgencyApp;
let consumer: Consumer;
const seen: AgencyEvent[] = [];
let token: string;

const cohort = generateCohort({
  seed: 33,
  children: 25,
  startYear: 2008,
  endYear: 2024,
  now: '2025-01-15T00:00:00Z',
});
const resources = fhirResourcesOf(cohort.events, { awkward: true });
const patients = resources.filter((resource) => resource.resourceType === 'Patient').length;

beforeAll(async () => {
  provider = await startLocalOidcProvider();
  const config = loadConfig({
    THROUGHLINE_MODE: 'production',
    CHILD_KEY_SALT: 'fhir-imports-int-salt-0123456789abcdef',
    PUBLISHER_KEYS: '',
    LOG_LEVEL: 'warn',
    KAFKA_CREDENTIALS_FILE: kafkaCredentialsFile(loadConfig({ THROUGHLINE_MODE: 'development' })),
    ...provider.env,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    KAFKA_TOPIC_PREFIX: PREFIX,
    KAFKA_PARTITIONS: '1',
    HEALTH_PORT: '0',
  });
  await grantKafkaAccess(config);
  running = await createAgencyApp('health', config);
  token = await provider.token('demo-child-health-system');
  consumer = createKafka(
    loadConfig({ THROUGHLINE_MODE: 'development', KAFKA_TOPIC_PREFIX: PREFIX }),
    'test',
    {
      clientSuffix: 'fhir-imports-int-reader',
    },
  ).consumer({ groupId: `${PREFIX}reader` });
  await consumer.connect();
  await consumer.subscribe({ topic: topicNames(PREFIX).agency.health, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(JSON.parse(String(message.value)) as AgencyEvent);
    },
  });
}, 120_000);

afterAll(async () => {
  await consumer?.disconnect();
  await running?.close();
  await provider?.stop();
});

function upload(query: string, content: string, name: string): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([content], { type: 'application/fhir+json' }), name);
  return fetch(`${running.url}/v1/imports?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
}

async function finished(status: string): Promise<ImportSummary> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const response = await fetch(`${running.url}${status}`, {
      headers: { authorization: `Bearer ${token}` },
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

describe('POST /v1/imports (health, FHIR R4)', () => {
  let first: ImportSummary;

  it('publishes the Bundle through the gateway to Kafka, with quarantines and refusals in the summary', async () => {
    const response = await upload(
      'format=fhir-r4&org=DEMO-CHS',
      fhirBundle(resources, 'json'),
      'cohort.json',
    );
    expect(response.status).toBe(202);
    first = await finished(((await response.json()) as { status: string }).status);
    expect(first).toMatchObject({
      format: 'fhir-r4',
      state: 'completed',
      children: patients,
      eventsRejected: 0,
    });
    expect(first.eventsPublished).toBeGreaterThan(50);
    expect(first.quarantined).toMatchObject({
      'nhs-number-not-verified': expect.any(Number),
      'nhs-number-check-digit': expect.any(Number),
    });
    expect(first.refusedByRule).toMatchObject({
      'patient-not-found': 1,
      'vaccine-code-not-mapped': expect.any(Number),
    });
    await waitForMessages(first.eventsPublished);
    expect(seen).toHaveLength(first.eventsPublished);
    for (const event of seen) {
      expect(event.source).toEqual({ agency: 'health', system: 'fhir-import', organisation: 'DEMO-CHS' });
      expect(event.provenance).toMatchObject({ kind: 'health-record', format: 'fhir-r4' });
    }
  }, 120_000);

  it('the same records as XML publish the same event ids', async () => {
    const before = new Set(seen.map((event) => event.eventId));
    const response = await upload('format=fhir-r4&org=DEMO-CHS', fhirBundle(resources, 'xml'), 'cohort.xml');
    const again = await finished(((await response.json()) as { status: string }).status);
    expect(again).toMatchObject({
      state: 'completed',
      eventsPublished: first.eventsPublished,
      eventsRejected: 0,
    });
    await waitForMessages(first.eventsPublished * 2);
    expect(new Set(seen.map((event) => event.eventId))).toEqual(before);
  }, 120_000);

  it('a file that is not FHIR fails the import with its reason, and nothing is published', async () => {
    const response = await upload('format=fhir-r4&org=DEMO-CHS', 'name,date\nAda,2020-01-01\n', 'notes.csv');
    const summary = await finished(((await response.json()) as { status: string }).status);
    expect(summary).toMatchObject({
      state: 'failed',
      eventsPublished: 0,
      error: expect.stringContaining('FHIR'),
    });
  }, 60_000);
});
