import { randomBytes } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import {
  allTopics,
  createKafka,
  ensureTopics,
  loadConfig,
  topicNames,
  type Config,
} from '@throughline/platform';
import type { DeadLetterPage, RecorderMetrics } from '@throughline/recording';
import { buildEnrolmentRecorded, createTestDatabase, waitFor, type TestDatabase } from '@throughline/testing';
import { createRecorderApp, type RecorderApp } from './app';

/** The recorder app over HTTP, on the real broker and PostgreSQL. */

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
}

describe('recorder app', () => {
  let db: TestDatabase;
  let config: Config;
  let app: RecorderApp | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('tl_recorder_app');
    const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    config = loadConfig({
      DATABASE_URL: db.url,
      KAFKA_TOPIC_PREFIX: `test-recorder-app-${suffix}.`,
      RECORDER_GROUP_ID: `test-recorder-app-${suffix}`,
      RECORDER_PORT: '0',
      LOG_LEVEL: 'error',
    });
  });

  afterAll(async () => {
    await app?.close();
    await db.drop();
  });

  it('reports health and metrics, and lists dead letters with their reason', async () => {
    const kafka = createKafka(config, 'recorder-app-test');
    const names = topicNames(config.KAFKA_TOPIC_PREFIX);
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await admin.connect();
    await ensureTopics(admin, allTopics(names), config.KAFKA_PARTITIONS);
    await producer.connect();
    try {
      const event = buildEnrolmentRecorded();
      await producer.send({
        topic: names.agency.education,
        messages: [
          { key: event.subject.recordId, value: JSON.stringify(event) },
          { key: 'k1', value: '{"type":"education.enrolment.recorded"}' },
          { key: 'k2', value: 'plain text' },
        ],
      });

      app = await createRecorderApp(config);
      const started = app;
      await waitFor(
        async () => (await getJson<RecorderMetrics>(`${started.url}/metrics`)).body.messagesConsumed === 3,
        {
          timeoutMs: 60_000,
          message: 'three messages consumed',
        },
      );

      const health = await getJson<Record<string, string>>(`${app.url}/health`);
      expect(health).toEqual({
        status: 200,
        body: { status: 'ok', consumer: 'running', database: 'reachable' },
      });

      const metrics = await getJson<RecorderMetrics & { groupId: string }>(`${app.url}/metrics`);
      expect(metrics.body).toMatchObject({
        groupId: config.RECORDER_GROUP_ID,
        messagesConsumed: 3,
        eventsStored: 1,
        duplicatesSkipped: 0,
        deadLettered: 2,
      });

      const first = await getJson<DeadLetterPage>(`${app.url}/v1/dead-letters?limit=1`);
      expect(first.status).toBe(200);
      expect(first.body.deadLetters).toHaveLength(1);
      expect(first.body.next).not.toBeNull();
      const second = await getJson<DeadLetterPage>(
        `${app.url}/v1/dead-letters?limit=1&after=${first.body.next}`,
      );
      expect(second.body.next).toBeNull();
      const all = [...first.body.deadLetters, ...second.body.deadLetters];
      expect(
        all
          .map(({ key, reason, value }) => ({ key, reason, value }))
          .sort((a, b) => a.key!.localeCompare(b.key!)),
      ).toEqual([
        {
          key: 'k1',
          reason: 'contract-violation',
          value: { encoding: 'utf8', text: '{"type":"education.enrolment.recorded"}' },
        },
        { key: 'k2', reason: 'unparseable', value: { encoding: 'utf8', text: 'plain text' } },
      ]);
      expect(all.find((d) => d.key === 'k1')?.issues).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: 'eventId', rule: 'required' })]),
      );

      const bad = await getJson<{ error: string; issues: unknown[] }>(
        `${app.url}/v1/dead-letters?limit=9999`,
      );
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({
        error: 'VALIDATION',
        issues: [expect.objectContaining({ path: 'limit' })],
      });

      await app.close();
      app = undefined;
      expect(started.recorder.currentState()).toBe('stopped');
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('refuses EVENT_STORE=eventstoredb with a clear configuration error until the adapter exists', async () => {
    const esdb = loadConfig({
      EVENT_STORE: 'eventstoredb',
      EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:2113',
    });
    await expect(createRecorderApp(esdb)).rejects.toMatchObject({
      code: 'CONFIGURATION',
      message: expect.stringContaining('not available yet'),
    });
  });
});
