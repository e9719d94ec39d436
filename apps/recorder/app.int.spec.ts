import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Partitioners } from 'kafkajs';
import {
  allTopics,
  createKafka,
  createPool,
  ensureTopics,
  loadConfig,
  topicNames,
  type Config,
} from '@throughline/platform';
import { streamIdOf } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import {
  PostgresDeadLetters,
  type DeadLetterPage,
  type RecorderMetrics,
  type RedriveResult,
} from '@throughline/recording';
import {
  grantKafkaAccess,
  buildEnrolmentRecorded,
  createTestDatabase,
  metricValue,
  scrapeMetrics,
  startTestAccess,
  waitFor,
  type TestAccess,
  type TestDatabase,
} from '@throughline/testing';
import { createRecorderApp, type RecorderApp } from './app';

/** The recorder app over HTTP, on the real broker and PostgreSQL, with tokens from a real provider. */

let access: TestAccess;
/** The information governance officer correcting data (the demo policy's dead-letter handler). */
const steward = () => access.headers('demo-ig-officer', 'data-quality');

async function getJson<T>(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { headers });
  return { status: response.status, body: (await response.json()) as T };
}

/** scripts/dead-letters.mjs against the running app: exit code and parsed stdout. */
async function deadLettersCli(url: string, args: string[]): Promise<{ code: number; body: unknown }> {
  const script = join(__dirname, '..', '..', 'scripts', 'dead-letters.mjs');
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [script, ...args], {
      env: { ...process.env, RECORDER_URL: url, THROUGHLINE_TOKEN: await access.token('demo-ig-officer') },
    });
    return { code: 0, body: JSON.parse(stdout) as unknown };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, body: failed.stdout ? (JSON.parse(failed.stdout) as unknown) : null };
  }
}

/** The access records of one action, oldest first. */
async function accessRecords(url: string, action: string): Promise<Record<string, unknown>[]> {
  const pool = createPool(url);
  try {
    const result = await pool.query(
      'SELECT user_id, purpose, action, outcome, details FROM access_log WHERE action = $1 ORDER BY seq',
      [action],
    );
    return result.rows;
  } finally {
    await pool.end();
  }
}

async function postJson<T>(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { method: 'POST', headers });
  return { status: response.status, body: (await response.json()) as T };
}

describe('recorder app', () => {
  let db: TestDatabase;
  let config: Config;
  let app: RecorderApp | undefined;

  beforeAll(async () => {
    access = await startTestAccess();
    db = await createTestDatabase('tl_recorder_app');
    const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    config = loadConfig({
      ...access.env,
      THROUGHLINE_MODE: 'development',
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
    await access?.stop();
  });

  it('reports health, status and Prometheus metrics, and lists dead letters with their reason', async () => {
    const kafka = createKafka(config, 'test', { clientSuffix: 'recorder-app-test' });
    const names = topicNames(config.KAFKA_TOPIC_PREFIX);
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await admin.connect();
    await ensureTopics(admin, allTopics(names), config.KAFKA_PARTITIONS);
    await grantKafkaAccess(config); // the recorder's own principal on this test's topics
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
      const operator = await access.headers('demo-monitoring');
      await waitFor(
        async () =>
          (await getJson<RecorderMetrics>(`${started.url}/v1/recorder/status`, operator)).body
            .messagesConsumed === 3,
        {
          timeoutMs: 60_000,
          message: 'three messages consumed',
        },
      );

      for (const path of ['/health', '/health/ready']) {
        const ready = await getJson<Record<string, unknown>>(`${app.url}${path}`);
        expect(ready.status).toBe(200);
        expect(ready.body).toMatchObject({
          status: 'ok',
          details: {
            consumer: { status: 'up', state: 'running', groupId: config.RECORDER_GROUP_ID },
            database: { status: 'up' },
          },
        });
      }
      expect((await getJson(`${app.url}/health/live`)).status).toBe(200);

      expect((await getJson(`${app.url}/v1/recorder/status`)).status).toBe(401);
      const status = await getJson<RecorderMetrics & { groupId: string }>(
        `${app.url}/v1/recorder/status`,
        operator,
      );
      expect(status.body).toMatchObject({
        groupId: config.RECORDER_GROUP_ID,
        consumer: 'running',
        messagesConsumed: 3,
        eventsStored: 1,
        duplicatesSkipped: 0,
        deadLettered: 2,
      });

      const text = await scrapeMetrics(app.url, operator);
      const recorder = { app: 'recorder' };
      expect(metricValue(text, 'throughline_recorder_messages_consumed_total', recorder)).toBe(3);
      expect(metricValue(text, 'throughline_recorder_events_stored_total', recorder)).toBe(1);
      expect(metricValue(text, 'throughline_recorder_duplicates_skipped_total', recorder)).toBe(0);
      expect(metricValue(text, 'throughline_recorder_dead_lettered_total', recorder)).toBe(2);
      expect(
        metricValue(text, 'throughline_recorder_batch_duration_seconds_count', {
          ...recorder,
          topic: names.agency.education,
        }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        [0, 1, 2].map((partition) =>
          metricValue(text, 'throughline_recorder_lag_messages', {
            ...recorder,
            topic: names.agency.education,
            partition: String(partition),
          }),
        ),
      ).toContain(0);
      expect(metricValue(text, 'process_resident_memory_bytes', recorder)).toBeGreaterThan(0);

      // The list shows coordinates, reason and issues; never the key, headers or payload.
      expect((await getJson(`${app.url}/v1/dead-letters`)).status).toBe(401);
      const monitoring = await getJson(`${app.url}/v1/dead-letters`, {
        ...operator,
        'x-purpose': 'data-quality',
      });
      expect(monitoring.status).toBe(403);
      const first = await getJson<DeadLetterPage>(`${app.url}/v1/dead-letters?limit=1`, await steward());
      expect(first.status).toBe(200);
      expect(first.body.deadLetters).toHaveLength(1);
      expect(first.body.next).not.toBeNull();
      const second = await getJson<DeadLetterPage>(
        `${app.url}/v1/dead-letters?limit=1&after=${first.body.next}`,
        await steward(),
      );
      expect(second.body.next).toBeNull();
      const listed = [...first.body.deadLetters, ...second.body.deadLetters];
      for (const letter of listed) expect(Object.keys(letter)).not.toEqual(expect.arrayContaining(['value']));
      expect(listed.map((letter) => Object.keys(letter).sort())[0]).toEqual(
        ['deadLetteredAt', 'id', 'issues', 'offset', 'partition', 'reason', 'redrive', 'topic'].sort(),
      );
      // The payload one at a time, with its own permission and purpose, each read recorded.
      const payloads = await Promise.all(
        listed.map(async (letter) => {
          const read = await getJson<{ key: string; value: unknown }>(
            `${app!.url}/v1/dead-letters/${letter.id}/payload`,
            await steward(),
          );
          expect(read.status).toBe(200);
          return { ...letter, key: read.body.key, value: read.body.value };
        }),
      );
      const purposeRefused = await getJson(
        `${app.url}/v1/dead-letters/${listed[0].id}/payload`,
        await access.headers('demo-ig-officer', 'information-governance'),
      );
      expect(purposeRefused.status).toBe(403);
      const all = payloads;
      expect(
        all
          .map(({ key, reason, value }) => ({ key, reason, value }))
          .sort((a, b) => a.key.localeCompare(b.key)),
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
      const recorded = await accessRecords(db.url, 'dead-letter-payload');
      expect(recorded).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ user_id: 'demo-ig-officer', purpose: 'data-quality', outcome: 'ok' }),
          expect.objectContaining({
            user_id: 'demo-ig-officer',
            purpose: 'information-governance',
            outcome: 'FORBIDDEN',
          }),
        ]),
      );

      const bad = await getJson<{ error: string; issues: unknown[] }>(
        `${app.url}/v1/dead-letters?limit=9999`,
        await steward(),
      );
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({
        error: 'VALIDATION',
        issues: [expect.objectContaining({ path: 'limit' })],
      });

      // Re-drive: still invalid → 422 with the issues, the row unchanged.
      const k1 = all.find((d) => d.key === 'k1')!;
      const stillInvalid = await postJson<RedriveResult>(
        `${app.url}/v1/dead-letters/${k1.id}/redrive`,
        await steward(),
      );
      expect(stillInvalid.status).toBe(422);
      expect(stillInvalid.body).toMatchObject({ status: 'still-invalid', redrive: null });
      expect(stillInvalid.body.issues).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: 'eventId', rule: 'required' })]),
      );
      expect((await postJson(`${app.url}/v1/dead-letters/${k1.id}/redrive`)).status).toBe(401);
      expect(
        (await postJson(`${app.url}/v1/dead-letters/${k1.id}/redrive`, { 'x-user-id': 'analyst-1' })).status,
      ).toBe(401);
      expect((await postJson(`${app.url}/v1/dead-letters/999999/redrive`, await steward())).status).toBe(404);

      // A dead letter the current contracts accept (refused when the recorder's clock was behind).
      const late = buildEnrolmentRecorded();
      const table = await PostgresDeadLetters.create({ connectionString: db.url });
      const store = await PostgresEventStore.create({ connectionString: db.url });
      try {
        await table.record([
          {
            topic: names.agency.education,
            partition: 0,
            offset: '1000000',
            key: late.subject.recordId,
            value: Buffer.from(JSON.stringify(late)),
            headers: {},
            reason: 'contract-violation',
            issues: [{ path: 'occurredAt', rule: 'not-in-future', message: 'occurredAt is in the future' }],
            deadLetteredAt: new Date(Date.now() - 3 * 24 * 60 * 60 * 1000),
          },
        ]);
        const lateId = (
          await getJson<DeadLetterPage>(`${app.url}/v1/dead-letters`, await steward())
        ).body.deadLetters.find((d) => d.offset === '1000000')!.id;
        const redriven = await postJson<RedriveResult>(
          `${app.url}/v1/dead-letters/${lateId}/redrive`,
          await steward(),
        );
        expect(redriven.status).toBe(200);
        expect(redriven.body).toMatchObject({
          status: 'stored',
          redrive: { redrivenBy: 'demo-ig-officer', eventId: late.eventId },
        });
        const again = await postJson<RedriveResult>(
          `${app.url}/v1/dead-letters/${lateId}/redrive`,
          await steward(),
        );
        expect(again.body).toMatchObject({ status: 'already-redriven', redrive: redriven.body.redrive });
        expect(await store.readStream(streamIdOf(late))).toHaveLength(1);

        // The same through the command line.
        const listed = await deadLettersCli(app.url, ['list', '--limit', '500']);
        expect(listed.code).toBe(0);
        expect((listed.body as DeadLetterPage).deadLetters.find((d) => d.id === lateId)?.redrive).toEqual(
          redriven.body.redrive,
        );
        expect(await deadLettersCli(app.url, ['redrive', lateId])).toEqual({
          code: 0,
          body: expect.objectContaining({ status: 'already-redriven' }),
        });
        expect(await deadLettersCli(app.url, ['redrive', k1.id])).toEqual({
          code: 1,
          body: expect.objectContaining({ status: 'still-invalid' }),
        });
        expect(await store.readStream(streamIdOf(late))).toHaveLength(1);
      } finally {
        await table.close();
        await store.close();
      }

      await app.close();
      app = undefined;
      expect(started.recorder.currentState()).toBe('stopped');
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('fails to start, retriably, when the configured EventStoreDB does not answer', async () => {
    const esdb = loadConfig({
      THROUGHLINE_MODE: 'development',
      EVENT_STORE: 'eventstoredb',
      EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:1?tls=false',
    });
    await expect(createRecorderApp(esdb)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
