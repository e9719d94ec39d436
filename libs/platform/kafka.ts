import { Kafka, logLevel, type Admin, type ITopicConfig, type logCreator, type RetryOptions } from 'kafkajs';
import type { Logger } from 'pino';
import { kafkaBrokers, type Config } from './config';
import { backoffDelay, sleep } from './backoff';
import { UnavailableError } from './errors';
import { appLogger } from './logging';

export const AGENCIES = ['health', 'education', 'social-care'] as const;
export type AgencyName = (typeof AGENCIES)[number];

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

export function createKafka(
  config: Config,
  clientSuffix: string,
  options: { readonly retry?: RetryOptions } = {},
): Kafka {
  return new Kafka({
    clientId: `${config.KAFKA_CLIENT_ID}-${clientSuffix}`,
    brokers: kafkaBrokers(config),
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
