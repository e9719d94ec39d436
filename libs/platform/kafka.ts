import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  Kafka,
  logLevel,
  type Admin,
  type ITopicConfig,
  type logCreator,
  type RetryOptions,
  type SASLOptions,
} from 'kafkajs';
import type { Logger } from 'pino';
import { z } from 'zod';
import { kafkaBrokers, type Config } from './config';
import { backoffDelay, sleep } from './backoff';
import { ThroughlineError, UnavailableError } from './errors';
import { appLogger } from './logging';

export const AGENCIES = ['health', 'education', 'social-care'] as const;
export type AgencyName = (typeof AGENCIES)[number];

/**
 * The Kafka principal of each agency service. The broker's ACLs let only it write its agency's
 * topic, so a message's topic names the principal that wrote it (the recorder cannot see SASL
 * identities); lineage records it. A deployment names its SCRAM users (or mTLS subjects) so.
 */
export const AGENCY_KAFKA_PRINCIPALS: Readonly<Record<AgencyName, string>> = {
  health: 'User:health-service',
  education: 'User:education-service',
  'social-care': 'User:social-care-service',
};

export interface TopicNames {
  readonly agency: Readonly<Record<AgencyName, string>>;
  readonly deadLetter: string;
}

export function topicNames(prefix = ''): TopicNames {
  return {
    agency: {
      health: `${prefix}health.events.v1`,
      education: `${prefix}education.events.v1`,
      'social-care': `${prefix}social-care.events.v1`,
    },
    deadLetter: `${prefix}throughline.dead-letter.v1`,
  };
}

export function allTopics(names: TopicNames): string[] {
  return [...Object.values(names.agency), names.deadLetter];
}

/** kafkajs retries of one call (connect, request): pauses doubling from 100 ms, 5 attempts, about 3 s in all. */
export const DEFAULT_KAFKA_RETRY: RetryOptions = { initialRetryTime: 100, retries: 5 };

/**
 * Who connects to Kafka: each has a principal of its own, and the broker's ACLs let each touch only
 * its own topics (infra/kafka.mjs accessBindings; docs/decisions/010-secured-broker.md). `test` and
 * `bench` are confined to the test-/it-/e2e- and bench. topic prefixes.
 */
export const KAFKA_COMPONENTS = [
  ...AGENCIES,
  'recorder',
  'access-notifications-producer',
  'access-notifications-consumer',
  'bench',
  'test',
] as const;
export type KafkaComponent = (typeof KAFKA_COMPONENTS)[number];

export interface KafkaCredentials {
  readonly mechanism: Config['KAFKA_SASL_MECHANISM'];
  readonly username: string;
  readonly password: string;
}

/** What infra/kafka.mjs writes at the local broker's first start (mode 0600), as far as clients read it. */
const credentialsFileSchema = z.object({
  components: z.record(z.string(), z.object({ username: z.string().min(1), password: z.string().min(1) })),
});

/** The local broker's credentials file: KAFKA_CREDENTIALS_FILE, else under the cache dir the launcher uses. */
export function kafkaCredentialsFile(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  return (
    config.KAFKA_CREDENTIALS_FILE ??
    join(env.THROUGHLINE_CACHE || join(homedir(), '.cache', 'throughline'), 'kafka-credentials.json')
  );
}

/**
 * The one place that decides how a component authenticates to Kafka: KAFKA_USERNAME/KAFKA_PASSWORD
 * when set (a deployment gives each app its own), else the component's generated local principal.
 */
export function kafkaCredentialsFor(config: Config, component: KafkaComponent): KafkaCredentials {
  const mechanism = config.KAFKA_SASL_MECHANISM;
  if (config.KAFKA_USERNAME !== undefined && config.KAFKA_PASSWORD !== undefined) {
    return { mechanism, username: config.KAFKA_USERNAME, password: config.KAFKA_PASSWORD };
  }
  const file = kafkaCredentialsFile(config);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ThroughlineError(
      'CONFIGURATION',
      `no Kafka credentials for ${component}: set KAFKA_USERNAME and KAFKA_PASSWORD, or start the local ` +
        `broker (npm run kafka:start), which generates ${file} (${(error as Error).message})`,
      { cause: error },
    );
  }
  const parsed = credentialsFileSchema.safeParse(parseJson(text));
  const entry = parsed.success ? parsed.data.components[component] : undefined;
  if (!entry) {
    throw new ThroughlineError(
      'CONFIGURATION',
      `${file} has no Kafka principal for ${component}: restart the local broker ` +
        '(npm run kafka:stop && npm run kafka:start) to add it',
    );
  }
  return { mechanism, username: entry.username, password: entry.password };
}

/** kafkajs' SASL options for credentials (its types want the mechanism narrowed to one literal). */
export function saslOptionsOf({ mechanism, username, password }: KafkaCredentials): SASLOptions {
  return mechanism === 'scram-sha-256'
    ? { mechanism, username, password }
    : { mechanism, username, password };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export interface CreateKafkaOptions {
  /** Ends the client id (default: the component), e.g. `health-gateway`. */
  readonly clientSuffix?: string;
  readonly retry?: RetryOptions;
}

/** A kafkajs client authenticated as the component's principal. */
export function createKafka(
  config: Config,
  component: KafkaComponent,
  options: CreateKafkaOptions = {},
): Kafka {
  return new Kafka({
    clientId: `${config.KAFKA_CLIENT_ID}-${options.clientSuffix ?? component}`,
    brokers: kafkaBrokers(config),
    ssl: config.KAFKA_SSL,
    sasl: saslOptionsOf(kafkaCredentialsFor(config, component)),
    logLevel: KAFKAJS_LEVELS[config.LOG_LEVEL],
    logCreator: kafkaLogCreator(appLogger(config)),
    retry: options.retry ?? DEFAULT_KAFKA_RETRY,
  });
}

/** kafkajs' own lines: errors only, unless LOG_LEVEL asks for debugging (its debug dumps requests). */
const KAFKAJS_LEVELS: Readonly<Record<Config['LOG_LEVEL'], logLevel>> = {
  error: logLevel.ERROR,
  warn: logLevel.ERROR,
  log: logLevel.ERROR,
  debug: logLevel.INFO,
  verbose: logLevel.DEBUG,
};

/**
 * Messages of the protocol errors kafkajs marks retriable (COORDINATOR_LOAD_IN_PROGRESS,
 * COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, LEADER_NOT_AVAILABLE…). kafkajs logs a failed
 * response at ERROR with only the message, then retries it itself; its table (kafkajs 2.x is
 * final) is the one place that says which are retriable.
 */
// kafkajs exports no list of its protocol errors; this is its own table.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsProtocolErrors = require('kafkajs/src/protocol/error') as {
  readonly errorCodes: readonly { readonly retriable: boolean; readonly message: string }[];
};
const RETRIABLE_KAFKA_MESSAGES: ReadonlySet<string> = new Set(
  kafkajsProtocolErrors.errorCodes.filter((error) => error.retriable).map((error) => error.message),
);

/**
 * Routes kafkajs' lines to pino (context `kafkajs`). A failed response with a retriable error
 * is a state kafkajs rides out (a broker just started is still loading its coordinator), so it
 * is logged at info with `retriable: true`, not as an error.
 */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...extra } = log;
      const retriable = typeof extra.error === 'string' && RETRIABLE_KAFKA_MESSAGES.has(extra.error);
      const fields = { context: 'kafkajs', namespace, ...extra, ...(retriable ? { retriable } : {}) };
      switch (level) {
        case logLevel.ERROR:
          if (retriable) logger.info(fields, message);
          else logger.error(fields, message);
          return;
        case logLevel.WARN:
          logger.warn(fields, message);
          return;
        case logLevel.INFO:
          logger.info(fields, message);
          return;
        case logLevel.DEBUG:
          logger.debug(fields, message);
          return;
        case logLevel.NOTHING:
          return;
        default: {
          const unknown: never = level;
          logger.warn(fields, `${message} (kafkajs level ${String(unknown)})`);
        }
      }
    };
}

/** Topics are created explicitly (the broker has auto-create off). Existing topics are left alone. */
export async function ensureTopics(
  admin: Admin,
  topics: readonly string[],
  partitions: number,
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing: ITopicConfig[] = topics
    .filter((topic) => !existing.has(topic))
    .map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 }));
  if (missing.length > 0) {
    try {
      await admin.createTopics({ topics: missing, waitForLeaders: true });
    } catch (error) {
      // Another app may have created the same topic in the meantime.
      if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
    }
  }
  // Topics another app has just created may not have working leaders yet: KRaft metadata can
  // name a leader before that broker serves the partition, and a producer or consumer started
  // then fails with "not the leader for topic-partition". Asking every leader for its offsets
  // proves each partition is served.
  await waitForLeaders(admin, topics);
}

async function waitForLeaders(admin: Admin, topics: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let leaderless: string[];
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
      leaderless = metadata.flatMap(({ name, partitions }) =>
        partitions.length === 0
          ? [name]
          : partitions.filter((p) => p.leader < 0).map((p) => `${name}:${p.partitionId}`),
      );
      if (leaderless.length === 0) await Promise.all(topics.map((topic) => admin.fetchTopicOffsets(topic)));
    } catch (error) {
      // A topic being created answers UNKNOWN_TOPIC_OR_PARTITION or NOT_LEADER_OR_FOLLOWER for a moment.
      leaderless = [`${topics.join(', ')} (${(error as Error).message})`];
    }
    if (leaderless.length === 0) return;
    if (Date.now() > deadline) {
      throw new UnavailableError(
        `Kafka partitions without a leader after ${timeoutMs} ms: ${leaderless.join(', ')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Retries an admin call while Kafka answers a retriable error (COORDINATOR_LOAD_IN_PROGRESS on a
 * freshly started broker, NOT_COORDINATOR during a move), with backoff, for at most timeoutMs.
 * kafkajs retries these inside consumers and producers but not in every admin call.
 */
export async function retryRetriableKafka<T>(
  what: string,
  call: () => Promise<T>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const retriable = (error as { retriable?: boolean }).retriable === true;
      if (!retriable) throw error;
      if (Date.now() > deadline) {
        throw new UnavailableError(
          `${what}: Kafka still answers ${(error as Error).message} after ${timeoutMs} ms`,
          error,
        );
      }
      await sleep(backoffDelay(attempt, { initialMs: 100, maxMs: 2_000 }));
    }
  }
}
