import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { createEventStore, type EventStore } from '@throughline/event-store';
import {
  appLogger,
  createHttpApp,
  createMetricsRegistry,
  createPool,
  edgeSettingsOf,
  ensureDatabase,
  listen,
  ReadinessChecks,
  startTracing,
  subscriptionMetrics,
  UnavailableError,
  type Config,
  type ReadinessCheck,
} from '@throughline/platform';
import { IdentityLinker, IdentityReview, migrateIdentity, type LinkerStatus } from '@throughline/identity';
import {
  TimelineProjector,
  TimelineQueries,
  migrateTimeline,
  type ProjectionStatus,
} from '@throughline/timeline';
import { projectionHttpModule } from './projection-http.module';
import { projectionRefusalAudit } from './refusal-audit';

/**
 * Ready when the read models' database answers and each subscription runs no more than
 * maxLagEvents behind the store's head.
 */
function projectionReadiness(
  queries: TimelineQueries,
  subscriptions: Readonly<Record<string, () => Promise<ProjectionStatus | LinkerStatus>>>,
  maxLagEvents: number,
): ReadinessChecks {
  const database: ReadinessCheck = {
    name: 'database',
    probe: async () => {
      if (!(await queries.ping())) throw new UnavailableError('database unreachable');
      return {};
    },
  };
  const lagChecks = Object.entries(subscriptions).map(([name, statusOf]): ReadinessCheck => ({
    name,
    probe: async () => {
      const { running, checkpoint, lag } = await statusOf();
      if (!running) throw new UnavailableError(`${name} is not running`);
      if (lag > maxLagEvents)
        throw new UnavailableError(`${name} is ${lag} events behind (HEALTH_MAX_LAG_EVENTS ${maxLagEvents})`);
      return { running, checkpoint, lag };
    },
  }));
  return new ReadinessChecks([database, ...lagChecks]);
}

export interface ProjectionApp {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly projector: TimelineProjector;
  readonly linker: IdentityLinker;
  /**
   * Resolves when the linker has linked everything in the store up to now and the projection
   * has applied it and the linker's own events (tests and demos wait on this, never on time).
   */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Stops the subscription (after the batch in hand), the HTTP server and the pools. Idempotent. */
  close(): Promise<void>;
}

export interface ProjectionAppOptions {
  /** A store of the caller's; it is left open on close(). Default: the adapter named by EVENT_STORE. */
  readonly store?: EventStore;
  /** Empty the read models and replay the whole store before serving. */
  readonly rebuild?: boolean;
}

/** Event store → timeline read models, with the query API on PROJECTION_PORT (0: any free port). */
export async function createProjectionApp(
  config: Config,
  options: ProjectionAppOptions = {},
): Promise<ProjectionApp> {
  startTracing({ serviceName: 'throughline-projection', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const logger = appLogger(config);
  const ownsStore = !options.store;
  const store = options.store ?? (await createEventStore(config));
  const metrics = createMetricsRegistry('projection');
  let pool: Pool | undefined;
  let projector: TimelineProjector | undefined;
  let linker: IdentityLinker | undefined;
  // Position, lag and batch durations of both subscriptions, at /metrics.
  const observer = subscriptionMetrics(metrics, {
    headPosition: () => store.headPosition(),
    checkpoints: async () =>
      (await Promise.all([projector?.status(), linker?.status()])).flatMap((status) =>
        status
          ? [
              {
                name: 'projection' in status ? status.projection : status.linker,
                position: BigInt(status.checkpoint),
              },
            ]
          : [],
      ),
  });
  let released: Promise<void> | undefined;
  const release = (): Promise<void> =>
    (released ??= (async () => {
      try {
        await linker?.stop();
        await projector?.stop();
      } finally {
        await pool?.end();
        if (ownsStore) await store.close();
      }
    })());

  try {
    // The read models live in PostgreSQL whatever the store: the store's database by default.
    await ensureDatabase(config.DATABASE_URL);
    pool = createPool(config.DATABASE_URL);
    await migrateTimeline(pool);
    await migrateIdentity(pool);
    projector = new TimelineProjector({
      pool,
      store,
      name: config.PROJECTION_NAME,
      childKeySalt: config.CHILD_KEY_SALT,
      observer,
    });
    if (options.rebuild) await projector.rebuild();
    else await projector.start();
    // Identity links are judgements recorded as events: the linker appends them, the projector applies them.
    linker = new IdentityLinker({ pool, store, observer });
    await linker.start();
    const queries = new TimelineQueries(pool);
    const review = new IdentityReview(pool, store, queries);
    const [timeline, identity] = [projector, linker];
    const readiness = projectionReadiness(
      queries,
      { projection: () => timeline.status(), identityLinker: () => identity.status() },
      config.HEALTH_MAX_LAG_EVENTS,
    );
    const module = projectionHttpModule(projector, queries, review, linker, release, readiness);
    const app = await createHttpApp(module, {
      title: 'Throughline projection',
      description:
        "Multi-agency timelines of children, linked across agencies. Every read of a child's data needs " +
        'x-user-id and x-purpose headers and is written to the access log; every identity review call ' +
        'is written to the identity audit log.',
      logger,
      metrics,
      edge: edgeSettingsOf(config),
      auditRefusal: projectionRefusalAudit(queries, review),
    });
    let url: string;
    try {
      url = await listen(app, config.PROJECTION_PORT, config.HOST);
    } catch (error) {
      await app.close();
      throw error;
    }
    let closed: Promise<void> | undefined;
    const caughtUp = async (timeoutMs = 30_000): Promise<void> => {
      // Until a pass adds nothing: the linker's own events are read by it (appending nothing) and projected.
      for (let head = await store.headPosition(); ;) {
        await identity.waitForPosition(head, timeoutMs);
        await timeline.waitForPosition(head, timeoutMs);
        const now = await store.headPosition();
        if (now === head) return;
        head = now;
      }
    };
    return {
      app,
      url,
      projector,
      linker,
      caughtUp,
      close: () => (closed ??= app.close().then(release)),
    };
  } catch (error) {
    await release();
    throw error;
  }
}
