import { z } from 'zod';
import { ThroughlineError } from './errors';

/**
 * Every setting Throughline reads from the environment, parsed once at start-up.
 * A bad environment fails listing every bad variable. Defaults are the local ones.
 */
const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

const publisherKey = z
  .string()
  .regex(
    /^(health|education|social-care):[A-Za-z0-9._-]+:[^,\s]{8,}$/,
    'agency:publisherId:key (key >= 8 chars)',
  );

export const configSchema = z.object({
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/throughline'),
  /** Comma-separated host:port list. */
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'host:port[,host:port…]')
    .default('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: z.string().min(1).default('throughline'),
  /** Prepended to every topic name; tests use it to get topics of their own. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/)
    .default(''),
  /** Partitions for topics this project creates. */
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(64).default(3),
  PROJECTION_PORT: port(3000),
  HEALTH_PORT: port(3001),
  EDUCATION_PORT: port(3002),
  SOCIAL_CARE_PORT: port(3003),
  RECORDER_PORT: port(3004),
  HOST: z.string().default('127.0.0.1'),
  EVENT_STORE: z.enum(['postgres', 'eventstoredb']).default('postgres'),
  EVENTSTORE_CONNECTION_STRING: z.string().optional(),
  /** Publisher credentials, comma-separated `agency:publisherId:key`. */
  PUBLISHER_KEYS: z
    .string()
    .default(
      'health:demo-child-health-system:dev-health-key,education:demo-school-mis:dev-education-key,social-care:demo-case-system:dev-social-care-key',
    )
    .transform((s) =>
      s
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(z.array(publisherKey).min(1)),
  /** Recorder consumer group. */
  RECORDER_GROUP_ID: z.string().min(1).default('throughline-recorder'),
  /**
   * Milliseconds the recorder keeps retrying a failing batch (database or broker down), with
   * backoff, before it stops its consumer for good ('crashed', /health 503).
   */
  RECORDER_MAX_RETRY_MS: z.coerce.number().int().min(100).max(86_400_000).default(300_000),
  /** Projection subscription name (its checkpoint row). */
  PROJECTION_NAME: z.string().min(1).default('timeline'),
  /**
   * Mixed into pseudonymous child keys so that keys from different deployments cannot be
   * correlated. Set once per deployment and never change it (keys would change on rebuild).
   */
  CHILD_KEY_SALT: z.string().max(200).default(''),
  /** Milliseconds a caught-up subscription waits for a NOTIFY before polling anyway. */
  SUBSCRIPTION_IDLE_POLL_MS: z.coerce.number().int().min(10).max(60000).default(1000),
  /** The most verbose level logged (Nest's names; pino's info is `log`, trace is `verbose`). */
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
  /** `json`: one JSON object a line; `pretty`: readable lines; `auto`: pretty when stdout is a terminal. */
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  /**
   * Events a subscription (the timeline projection, the identity linker) may be behind the
   * store's head while /health/ready still answers 200.
   */
  HEALTH_MAX_LAG_EVENTS: z.coerce.number().int().min(0).default(10_000),
  /**
   * OTLP/HTTP collector base URL (e.g. http://127.0.0.1:4318): spans are exported to
   * `<url>/v1/traces`. Unset: spans are still made, so traceparent propagates, but not exported.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.string().url().optional(),
  ),
});

export type Config = z.infer<typeof configSchema>;

export interface PublisherCredential {
  readonly agency: 'health' | 'education' | 'social-care';
  readonly publisherId: string;
  readonly key: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ThroughlineError('CONFIGURATION', `invalid environment:\n${lines.join('\n')}`);
  }
  if (parsed.data.EVENT_STORE === 'eventstoredb' && !parsed.data.EVENTSTORE_CONNECTION_STRING) {
    throw new ThroughlineError(
      'CONFIGURATION',
      'invalid environment:\n  EVENTSTORE_CONNECTION_STRING: required when EVENT_STORE=eventstoredb',
    );
  }
  return parsed.data;
}

export function publisherCredentials(config: Config): PublisherCredential[] {
  return config.PUBLISHER_KEYS.map((entry) => {
    const [agency, publisherId, ...rest] = entry.split(':');
    return { agency: agency as PublisherCredential['agency'], publisherId, key: rest.join(':') };
  });
}

export function kafkaBrokers(config: Config): string[] {
  return config.KAFKA_BROKERS.split(',');
}
