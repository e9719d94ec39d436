import { Controller, Get, Global, Header, Inject, Module, type DynamicModule } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiHeader,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { errorSchema } from './openapi';
import { RouteAccess } from './route-access';

/**
 * Prometheus metrics with prom-client. Each app has a registry of its own (tests run several
 * apps in one process), labelled with the app's name, with the process defaults in it.
 * Names: `throughline_<what>_<unit>`; counters end in `_total`.
 */

/** Durations in seconds: 1 ms to 10 s. */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetricsRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The route pattern of a request that matched no route (keeps the label set small). */
export const UNMATCHED_ROUTE = '(unmatched)';

/** `throughline_http_request_duration_seconds{method,route,status_code}`, by route pattern, never the raw URL. */
export function observeHttpRequests(fastify: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: 'throughline_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status code: time to the response in seconds',
    labelNames: ['method', 'route', 'status_code'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? UNMATCHED_ROUTE,
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
}

@ApiTags('operations')
@Controller()
export class MetricsController {
  constructor(@Inject(Registry) private readonly registry: Registry) {}

  @Get('metrics')
  @RouteAccess({ permission: 'operations:read', action: 'metrics', defaultPurpose: 'operations' })
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics of this app (text exposition format)' })
  @ApiProduces('text/plain')
  // What libs/access @Access documents (platform cannot import it): a bearer token, x-purpose.
  @ApiBearerAuth()
  @ApiHeader({
    name: 'x-purpose',
    required: false,
    description: 'why you are asking; default operations (scrapers cannot set one)',
  })
  @ApiUnauthorizedResponse({ description: 'no valid access token', schema: errorSchema })
  @ApiForbiddenResponse({
    description: 'no role of the caller grants operations:read for the purpose',
    schema: errorSchema,
  })
  @ApiBadRequestResponse({ description: 'x-purpose malformed', schema: errorSchema })
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Serves GET /metrics and lets any module of the app inject the app's Registry. */
@Global()
@Module({})
export class MetricsModule {
  static forRegistry(registry: Registry): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [{ provide: Registry, useValue: registry }],
      exports: [Registry],
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpointed subscriptions (the timeline projection, the identity linker)

/** What a checkpointed subscription runner tells its observer (@throughline/event-store's SubscriptionObserver). */
export interface SubscriptionBatchInfo {
  readonly name: string;
  readonly events: number;
  readonly durationMs: number;
  readonly position: bigint;
  readonly lastRecordedAt: Date | undefined;
}

export interface SubscriptionMetricsObserver {
  batchCommitted(info: SubscriptionBatchInfo): void;
  failed(info: { readonly name: string; readonly error: unknown; readonly willRetry: boolean }): void;
}

/** The store's head is read once per scrape at most this often. */
const HEAD_CACHE_MS = 500;

/**
 * Metrics of the subscriptions that report to the returned observer, per subscription name:
 * position, lag in events (store head − position, read at scrape time), lag in seconds (how
 * long ago the last committed event was recorded, while there is more to read; 0 when caught
 * up), batch duration, events and failures.
 */
export interface SubscriptionMetricsOptions {
  /** The store's head position. */
  readonly headPosition: () => Promise<bigint>;
  /**
   * Checkpoints of the subscriptions, for those that have committed no batch since start (a
   * caught-up subscription may commit none for a long time).
   */
  readonly checkpoints?: () => Promise<readonly { readonly name: string; readonly position: bigint }[]>;
  readonly now?: () => number;
}

export function subscriptionMetrics(
  registry: Registry,
  options: SubscriptionMetricsOptions,
): SubscriptionMetricsObserver {
  const { headPosition, checkpoints, now = Date.now } = options;
  const latest = new Map<string, { position: bigint; lastRecordedAt: Date | undefined }>();

  /** Head and checkpoints, read once per scrape (the gauges collect in parallel). */
  let reading: { at: number; value: Promise<bigint | undefined> } | undefined;
  const read = async (): Promise<bigint | undefined> => {
    try {
      for (const { name, position } of (await checkpoints?.()) ?? []) {
        if (!latest.has(name)) latest.set(name, { position, lastRecordedAt: undefined });
      }
      return await headPosition();
    } catch {
      return undefined; // the store is unreachable: the lag gauges keep their last values
    }
  };
  const scrape = (): Promise<bigint | undefined> => {
    if (!reading || now() - reading.at > HEAD_CACHE_MS) reading = { at: now(), value: read() };
    return reading.value;
  };
  const lagOf = async (): Promise<Map<string, { events: number; seconds: number }>> => {
    const lags = new Map<string, { events: number; seconds: number }>();
    const storeHead = await scrape();
    if (storeHead === undefined) return lags;
    for (const [name, { position, lastRecordedAt }] of latest) {
      const events = storeHead > position ? Number(storeHead - position) : 0;
      const seconds =
        events > 0 && lastRecordedAt ? Math.max(0, (now() - lastRecordedAt.getTime()) / 1000) : 0;
      lags.set(name, { events, seconds });
    }
    return lags;
  };

  new Gauge({
    name: 'throughline_subscription_position',
    help: 'Store position up to which the subscription has committed',
    labelNames: ['subscription'],
    registers: [registry],
    async collect() {
      await scrape();
      for (const [name, { position }] of latest) this.set({ subscription: name }, Number(position));
    },
  });
  new Gauge({
    name: 'throughline_subscription_lag_events',
    help: "Events in the store past the subscription's position",
    labelNames: ['subscription'],
    registers: [registry],
    async collect() {
      for (const [name, lag] of await lagOf()) this.set({ subscription: name }, lag.events);
    },
  });
  new Gauge({
    name: 'throughline_subscription_lag_seconds',
    help: 'Seconds since the last event the subscription committed was recorded, while it is behind; 0 when caught up',
    labelNames: ['subscription'],
    registers: [registry],
    async collect() {
      for (const [name, lag] of await lagOf()) this.set({ subscription: name }, lag.seconds);
    },
  });
  const batchDuration = new Histogram({
    name: 'throughline_subscription_batch_duration_seconds',
    help: 'Batches committed by the subscription: handler and checkpoint transaction, in seconds',
    labelNames: ['subscription'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const events = new Counter({
    name: 'throughline_subscription_events_total',
    help: 'Events in the batches the subscription committed',
    labelNames: ['subscription'],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'throughline_subscription_failures_total',
    help: 'Failed batches; will_retry="false" when the subscription stopped for good',
    labelNames: ['subscription', 'will_retry'],
    registers: [registry],
  });

  return {
    batchCommitted(info) {
      latest.set(info.name, { position: info.position, lastRecordedAt: info.lastRecordedAt });
      batchDuration.observe({ subscription: info.name }, info.durationMs / 1000);
      events.inc({ subscription: info.name }, info.events);
    },
    failed(info) {
      failures.inc({ subscription: info.name, will_retry: String(info.willRetry) });
    },
  };
}

/**
 * `throughline_shared_read_events_total{from="window"|"store"}`: events the process's
 * subscriptions were handed from the event store's shared read window, and read from the store
 * (decision 025), as `stats` counts them; `throughline_shared_read_pauses_total`: reads a
 * subscription held back for slower ones.
 */
export function sharedReadMetrics(
  registry: Registry,
  stats: () => { readonly hits: number; readonly misses: number; readonly pauses: number },
): void {
  new Counter({
    name: 'throughline_shared_read_events_total',
    help: "Events the subscriptions were handed from the store's shared read window, and read from the store",
    labelNames: ['from'],
    registers: [registry],
    collect() {
      const { hits, misses } = stats();
      this.reset();
      this.inc({ from: 'window' }, hits);
      this.inc({ from: 'store' }, misses);
    },
  });
  new Counter({
    name: 'throughline_shared_read_pauses_total',
    help: 'Reads a subscription catching up waited before, for slower subscriptions to come nearer',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats().pauses);
    },
  });
}
