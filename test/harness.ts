import { randomBytes } from 'node:crypto';
import { createEducationApp } from '../apps/education/app';
import { createHealthApp } from '../apps/health/app';
import { createProjectionApp } from '../apps/projection/app';
import { createRecorderApp } from '../apps/recorder/app';
import { createSocialCareApp } from '../apps/social-care/app';
import { loadConfig, type Config } from '@throughline/platform';
import { createTestDatabase, grantKafkaAccess, waitFor, type TestDatabase } from '@throughline/testing';

/**
 * The five apps, each listening on its own free port, on the real broker and a database
 * and topic prefix of this suite's own. Driven over HTTP only.
 */
export interface RunningSystem {
  readonly config: Config;
  readonly urls: {
    health: string;
    education: string;
    socialCare: string;
    recorder: string;
    projection: string;
  };
  stop(): Promise<void>;
}

export const DEV_KEYS = {
  health: 'dev-health-key',
  education: 'dev-education-key',
  'social-care': 'dev-social-care-key',
} as const;

export async function startSystem(): Promise<RunningSystem> {
  const database: TestDatabase = await createTestDatabase('tl_e2e');
  const run = randomBytes(4).toString('hex');
  const config = loadConfig({
    THROUGHLINE_MODE: 'development',
    DATABASE_URL: database.url,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    KAFKA_TOPIC_PREFIX: `e2e-${run}.`,
    RECORDER_GROUP_ID: `e2e-recorder-${run}`,
    PROJECTION_PORT: '0',
    HEALTH_PORT: '0',
    EDUCATION_PORT: '0',
    SOCIAL_CARE_PORT: '0',
    RECORDER_PORT: '0',
    LOG_LEVEL: 'warn',
  });
  const stops: (() => Promise<void>)[] = [];
  try {
    // The apps' own Kafka principals on this suite's topics (the broker grants the unprefixed ones).
    await grantKafkaAccess(config);
    const health = await createHealthApp(config);
    stops.push(() => health.close());
    const education = await createEducationApp(config);
    stops.push(() => education.close());
    const socialCare = await createSocialCareApp(config);
    stops.push(() => socialCare.close());
    const recorder = await createRecorderApp(config);
    stops.push(() => recorder.close());
    const projection = await createProjectionApp(config);
    stops.push(() => projection.close());
    const urls = {
      health: health.url,
      education: education.url,
      socialCare: socialCare.url,
      recorder: recorder.url,
      projection: projection.url,
    };
    for (const url of Object.values(urls)) {
      await waitFor(async () => (await fetch(`${url}/health`)).ok, {
        message: `${url}/health`,
        timeoutMs: 60000,
      });
    }
    return {
      config,
      urls,
      async stop() {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
        await database.drop();
      },
    };
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await database.drop();
    throw error;
  }
}

export async function postJson<T = PublishAnswer>(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: T }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export async function getJson<T>(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

export const PRACTITIONER = {
  'x-user-id': 'e2e-practitioner',
  'x-user-role': 'social-worker',
  'x-purpose': 'direct-care',
};

/** What the apps answer, as far as the suites read it. */
export interface PublishAnswer {
  readonly accepted: number;
  readonly rejected: number;
  readonly results: {
    index: number;
    eventId?: string;
    status: 'accepted' | 'rejected';
    topic?: string;
    issues?: { path: string; rule: string; message: string }[];
  }[];
}

export interface TimelineView {
  readonly childKey: string;
  readonly subjects: { agency: string; recordId: string }[];
  readonly entries: {
    occurredAt: string;
    agency: 'health' | 'education' | 'social-care';
    type: string;
    summary: string;
    kind: 'fact' | 'observation';
    indicator?: { value: number };
    narrative?: string;
    perspective?: string;
    confidence?: string;
    lineage: {
      eventId: string;
      topic?: string;
      partition?: number;
      offset?: string;
      storePosition: number;
      sourceSystem: string;
    };
  }[];
}

export interface DeadLetterList {
  readonly deadLetters: {
    topic: string;
    key: string | null;
    reason: string;
    partition: number;
    offset: string;
    issues: { path: string; rule: string; message: string }[];
  }[];
}
