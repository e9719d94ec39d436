import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { createEventStore, type EventStore } from '@throughline/event-store';
import { createHttpApp, createPool, ensureDatabase, listen, type Config } from '@throughline/platform';
import { IdentityLinker, IdentityReview, migrateIdentity } from '@throughline/identity';
import { TimelineProjector, TimelineQueries, migrateTimeline } from '@throughline/timeline';
import { projectionHttpModule } from './projection-http.module';

const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const satisfies Config['LOG_LEVEL'][];

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
  const ownsStore = !options.store;
  const store = options.store ?? (await createEventStore(config));
  let pool: Pool | undefined;
  let projector: TimelineProjector | undefined;
  let linker: IdentityLinker | undefined;
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
    });
    if (options.rebuild) await projector.rebuild();
    else await projector.start();
    // Identity links are judgements recorded as events: the linker appends them, the projector applies them.
    linker = new IdentityLinker({ pool, store });
    await linker.start();
    const queries = new TimelineQueries(pool);
    const review = new IdentityReview(pool, store, queries);
    const app = await createHttpApp(projectionHttpModule(projector, queries, review, linker, release), {
      title: 'Throughline projection',
      description:
        "Multi-agency timelines of children, linked across agencies. Every read of a child's data needs " +
        'x-user-id and x-purpose headers and is written to the access log; every identity review call ' +
        'is written to the identity audit log.',
      logLevels: LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(config.LOG_LEVEL) + 1),
    });
    let url: string;
    try {
      url = await listen(app, config.PROJECTION_PORT, config.HOST);
    } catch (error) {
      await app.close();
      throw error;
    }
    let closed: Promise<void> | undefined;
    const [timeline, identity] = [projector, linker];
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
