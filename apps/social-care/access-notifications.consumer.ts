import { Controller, Inject, Logger, type INestApplication, type Type } from '@nestjs/common';
import {
  Ctx,
  EventPattern,
  KafkaContext,
  Payload,
  RpcException,
  ServerKafka,
  type KafkaOptions,
} from '@nestjs/microservices';
import { logLevel, type Consumer } from 'kafkajs';
import { toContractIssues } from '@throughline/contracts';
import {
  accessNotificationSchema,
  accessNotificationsGroupId,
  accessNotificationsTopic,
  AccessNotificationInbox,
} from '@throughline/notifications';
import {
  appLogger,
  backoffDelay,
  DEFAULT_KAFKA_RETRY,
  kafkaBrokers,
  kafkaCredentialsFor,
  kafkaLogCreator,
  saslOptionsOf,
  UnavailableError,
  type Config,
  type ReadinessCheck,
} from '@throughline/platform';

/**
 * The access-notifications topic through `@nestjs/microservices`' Kafka transport, as the
 * `access-notifications-consumer` principal. Per-message handling (an @EventPattern handler)
 * fits: each notification is stored on its own, once; the offset moves on only after it is.
 */

/** kafkajs' own lines: errors only, unless LOG_LEVEL asks for debugging (as createKafka does). */
function kafkajsLevel(level: Config['LOG_LEVEL']): logLevel {
  return level === 'verbose' ? logLevel.DEBUG : level === 'debug' ? logLevel.INFO : logLevel.ERROR;
}

/** The transport's options: SASL as the consumer principal, the deployment's group prefix, from the earliest offset. */
export function accessNotificationsTransport(config: Config): NonNullable<KafkaOptions['options']> {
  return {
    client: {
      clientId: `${config.KAFKA_CLIENT_ID}-access-notifications`,
      brokers: kafkaBrokers(config),
      ssl: config.KAFKA_SSL,
      sasl: saslOptionsOf(kafkaCredentialsFor(config, 'access-notifications-consumer')),
      logLevel: kafkajsLevel(config.LOG_LEVEL),
      logCreator: kafkaLogCreator(appLogger(config)),
      retry: DEFAULT_KAFKA_RETRY,
    },
    // Nest appends `-server`; the principal's ACL allows groups with this prefix.
    consumer: {
      groupId: accessNotificationsGroupId(config.KAFKA_TOPIC_PREFIX),
      allowAutoTopicCreation: false,
    },
    // A new group (a new deployment of this service) reads every notification still on the topic.
    subscribe: { fromBeginning: true },
  };
}

/**
 * The handler of one topic (the name carries the deployment's prefix, so the class is made per
 * topic). A message that is not a version-1 notification is logged (where it is, which rules it
 * breaks, none of its content) and passed over; a notification not stored (the database down) is
 * refused, so Kafka does not commit its offset and delivers it again.
 */
export function accessNotificationsEventController(topic: string): Type<unknown> {
  @Controller()
  class AccessNotificationsEvents {
    private readonly logger = new Logger('AccessNotificationsConsumer');

    constructor(@Inject(AccessNotificationInbox) private readonly inbox: AccessNotificationInbox) {}

    @EventPattern(topic)
    async received(@Payload() value: unknown, @Ctx() context: KafkaContext): Promise<void> {
      const place = {
        topic: context.getTopic(),
        partition: context.getPartition(),
        offset: context.getMessage().offset,
      };
      const where = `${place.topic}/${place.partition}@${place.offset}`;
      const parsed = accessNotificationSchema.safeParse(value);
      if (!parsed.success) {
        const issues = toContractIssues(parsed.error.issues).map(
          (issue) => `${issue.path || '(message)'} (${issue.rule})`,
        );
        this.logger.error(`passed over ${where}: not an access notification v1: ${issues.join(', ')}`);
        return;
      }
      try {
        await this.inbox.receive(parsed.data, place);
      } catch (error) {
        this.logger.warn(`${where} not stored, Kafka delivers it again: ${(error as Error).message}`);
        throw new RpcException('access notification not stored');
      }
    }
  }
  return AccessNotificationsEvents;
}

type ConsumerState = 'starting' | 'running' | 'rejoining' | 'failed' | 'stopped';

/** Pauses before listening again after the transport failed to start or crashed for good. */
const RELISTEN_BACKOFF = { initialMs: 500, maxMs: 30_000 };

/**
 * The hybrid app's Kafka side: the transport as a strategy of ours (so its state can be watched
 * and it can be started again), connected to the HTTP app. Starting never waits for Kafka: a
 * failed start, or a crash kafkajs does not recover from itself, is retried with backoff;
 * readiness says whether the consumer is in its group.
 */
export class AccessNotificationsConsumer {
  readonly topic: string;
  private readonly server: ServerKafka;
  private readonly logger = new Logger('AccessNotificationsConsumer');
  private microservice: { listen(): Promise<unknown> } | undefined;
  private state: ConsumerState = 'starting';
  private lastError: string | undefined;
  private attempts = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(config: Config) {
    this.topic = accessNotificationsTopic(config.KAFKA_TOPIC_PREFIX);
    this.server = new ServerKafka(accessNotificationsTransport(config));
  }

  /** Connects the transport to the app (app.connectMicroservice); call app.startAllMicroservices() after. */
  attach(app: INestApplication): void {
    this.microservice = app.connectMicroservice({ strategy: this.server }, { inheritAppConfig: false });
  }

  /** Runs app.startAllMicroservices(); a failure is logged and retried in the background. */
  async start(app: INestApplication): Promise<void> {
    try {
      await app.startAllMicroservices();
      this.started();
    } catch (error) {
      this.failed(error);
    }
  }

  /** Stops retrying (app.close() closes the transport itself). */
  stop(): void {
    this.state = 'stopped';
    clearTimeout(this.retryTimer);
  }

  readiness(): ReadinessCheck {
    return {
      name: 'access-notifications-consumer',
      probe: async () => {
        if (this.state !== 'running')
          throw new UnavailableError(
            `consumer of ${this.topic} is ${this.state}${this.lastError ? `: ${this.lastError}` : ''}`,
          );
        return { topic: this.topic };
      },
    };
  }

  private started(): void {
    if (this.state === 'stopped') return;
    this.attempts = 0;
    this.lastError = undefined;
    this.state = 'running';
    const [, consumer] = this.server.unwrap<[unknown, Consumer, unknown]>();
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (this.state !== 'stopped') this.state = 'running';
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.state === 'stopped') return;
      this.lastError = payload.error.message;
      // kafkajs restarts a consumer whose failure is retriable (the handler refused, the broker went away).
      if (payload.restart) this.state = 'rejoining';
      else this.failed(payload.error);
    });
  }

  private failed(error: unknown): void {
    if (this.state === 'stopped') return;
    this.state = 'failed';
    this.lastError = error instanceof Error ? error.message : String(error);
    const delay = backoffDelay(this.attempts++, RELISTEN_BACKOFF);
    this.logger.warn(
      `consumer of ${this.topic} is not running (${this.lastError}); trying again in ${delay} ms`,
    );
    this.retryTimer = setTimeout(() => void this.relisten(), delay);
    this.retryTimer.unref();
  }

  private async relisten(): Promise<void> {
    if (this.state === 'stopped' || !this.microservice) return;
    try {
      await this.server.close();
      await this.microservice.listen();
      this.started();
    } catch (error) {
      this.failed(error);
    }
  }
}
