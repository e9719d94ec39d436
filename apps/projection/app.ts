import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { migrateAccess, openGovernedAccess, TokenVerifier, type GovernedAccess } from '@throughline/access';
import {
  LiveGenerations,
  PostgresEventStore,
  createEventStore,
  migrateAsOwnerBesideGenerations,
  type EventStore,
} from '@throughline/event-store';
import {
  appLogger,
  createHttpApp,
  sharedReadMetrics,
  createMetricsRegistry,
  createPool,
  edgeSettingsOf,
  listen,
  prepareDatabase,
  type DatabaseConnections,
  ReadinessChecks,
  startTracing,
  subscriptionMetrics,
  ThroughlineError,
  UnavailableError,
  type Config,
  type MigrateOptions,
  type ReadinessCheck,
} from '@throughline/platform';
import {
  DEFAULT_CANDIDATE_LIMITS,
  IdentityLinker,
  IdentityReview,
  migrateIdentity,
  type LinkerStatus,
} from '@throughline/identity';
import { AccessNotificationRelay, migrateNotifications, notifyIfNeeded } from '@throughline/notifications';
import {
  TimelineProjector,
  TimelineQueries,
  migrateTimeline,
  type ProjectionStatus,
} from '@throughline/timeline';
import { migrateRecording } from '@throughline/recording';
import { FrameworkStore, migrateOutcomes, OutcomeReads, ReviewsDueQueries } from '@throughline/outcomes';
import {
  AnalysisProjector,
  AnalysisQueries,
  AnalysisQueryLog,
  disclosureRulesOf,
  migrateAnalysis,
} from '@throughline/analysis';
import { GovernanceReports } from './governance-reports';
import { PageOidcClient, pageClientSettings } from './page-oidc-client';
import { PageSessions } from './page-session';
import { projectionHttpModule } from './projection-http.module';

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

/** Connections for the projector's, the linker's and the analysis model's batches (one each, and one for status reads). */
const SUBSCRIPTION_POOL_SIZE = 4;

/**
 * ANALYSIS_PSEUDONYM_KEY, which production must set (16+ characters, not the child key salt):
 * without it the analysis model's pseudonyms could be recomputed from record ids.
 */
function analysisPseudonymKey(config: Config): string {
  const key = config.ANALYSIS_PSEUDONYM_KEY;
  if (config.THROUGHLINE_MODE === 'production' && (key.length < 16 || key === config.CHILD_KEY_SALT))
    throw new ThroughlineError(
      'CONFIGURATION',
      'invalid environment:\n  ANALYSIS_PSEUDONYM_KEY: at least 16 characters, not CHILD_KEY_SALT, outside ' +
        'THROUGHLINE_MODE=development; set it once per deployment, never change it',
    );
  return key;
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

/**
 * Every migration the projection's database needs, as the owner, with the read models' live
 * generations on the search_path (decision 023); resolves with the grants' options (the apps'
 * role, when it is another).
 */
export async function migrateProjectionDatabase(connections: DatabaseConnections): Promise<MigrateOptions> {
  return migrateAsOwnerBesideGenerations(connections, async (owner, grants) => {
    await migrateTimeline(owner, grants);
    await migrateIdentity(owner, grants);
    await migrateNotifications(owner, grants);
    await migrateAccess(owner, grants);
    // Read by the governance reports (dead letters, gateway rejections): the recorder's tables.
    await migrateRecording(owner, grants);
    await migrateOutcomes(owner, grants);
    await migrateAnalysis(owner, grants);
    return grants;
  });
}

/** Event store → timeline read models, with the query API on PROJECTION_PORT (0: any free port). */
export async function createProjectionApp(
  config: Config,
  options: ProjectionAppOptions = {},
): Promise<ProjectionApp> {
  analysisPseudonymKey(config); // refused before anything starts
  startTracing({ serviceName: 'throughline-projection', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const logger = appLogger(config);
  const ownsStore = !options.store;
  const store = options.store ?? (await createEventStore(config));
  const metrics = createMetricsRegistry('projection');
  let pool: Pool | undefined;
  let subscriptionPool: Pool | undefined;
  let projector: TimelineProjector | undefined;
  let linker: IdentityLinker | undefined;
  let relay: AccessNotificationRelay | undefined;
  let access: GovernedAccess | undefined;
  let frameworks: FrameworkStore | undefined;
  let analysisModel: AnalysisProjector | undefined;
  let generations: LiveGenerations | undefined;
  let timelineReads: TimelineQueries | undefined;
  let outcomeReads: OutcomeReads | undefined;
  // Position, lag and batch durations of both subscriptions, at /metrics.
  const observer = subscriptionMetrics(metrics, {
    headPosition: () => store.headPosition(),
    checkpoints: async () =>
      (await Promise.all([projector?.status(), linker?.status(), analysisModel?.status()])).flatMap(
        (status) =>
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
  if (store instanceof PostgresEventStore) sharedReadMetrics(metrics, () => store.sharedReadStats());
  let released: Promise<void> | undefined;
  const release = (): Promise<void> =>
    (released ??= (async () => {
      try {
        await generations?.close();
        await relay?.stop();
        await linker?.stop();
        await projector?.stop();
        await analysisModel?.stop();
        if (store instanceof PostgresEventStore) {
          const { hits, misses, pauses } = store.sharedReadStats();
          logger.info(
            `shared read window: ${hits} events handed from it, ${misses} read from the store, ${pauses} reads paused (decision 025)`,
          );
        }
      } finally {
        access?.close();
        frameworks?.close();
        await subscriptionPool?.end();
        await pool?.end();
        if (ownsStore) await store.close();
      }
    })());

  try {
    // The read models live in PostgreSQL whatever the store: the store's database by default.
    // Migrated by the owner role; the app's pool is the app role's, rows only (decision 011).
    const connections = await prepareDatabase(config);
    await migrateProjectionDatabase(connections);
    // Every connection reads the live generation of each read model; a rebuild's switch moves
    // them, and restarts the read model's runner from the new generation's checkpoint.
    generations = await LiveGenerations.follow(config.DATABASE_URL, async (moved) => {
      // A new generation may work entries out anew: what was kept from the old one goes.
      if (moved.includes('timeline')) {
        timelineReads?.forgetEntries();
        outcomeReads?.forgetAnswers();
      }
      for (const name of moved) {
        const runner = name === 'timeline' ? projector : name === 'analysis' ? analysisModel : undefined;
        if (!runner || released) continue;
        logger.info(
          `read model ${name} switched to ${generations?.liveSchemas().get(name)}: runner restarts`,
        );
        await runner.stop();
        if (!released) await runner.start();
      }
    });
    pool = createPool(config.DATABASE_URL, { onCheckout: generations.onCheckout });
    // The page signs people in (authorization code + PKCE) and keeps their tokens here: its
    // session cookie is how the guard finds their principal (decision 013).
    const verifier = TokenVerifier.fromConfig(config);
    const pageClient = new PageOidcClient(pageClientSettings(config));
    const pageSessions = new PageSessions({ verifier, client: pageClient, pageOrigin: config.PAGE_ORIGIN });
    access = await openGovernedAccess(pool, config, { verifier, sessions: pageSessions });
    // The two subscriptions' batch transactions get connections of their own: on the shared
    // pool they queued behind every read's queries (a timeline read is seven), so under read
    // load a committed event waited for reads before the projection could even BEGIN.
    subscriptionPool = createPool(config.DATABASE_URL, {
      max: SUBSCRIPTION_POOL_SIZE,
      onCheckout: generations.onCheckout,
    });
    projector = new TimelineProjector({
      pool: subscriptionPool,
      store,
      name: config.PROJECTION_NAME,
      childKeySalt: config.CHILD_KEY_SALT,
      observer,
    });
    if (options.rebuild) await projector.rebuild();
    else await projector.start();
    // Identity links are judgements recorded as events: the linker appends them, the projector applies them.
    linker = new IdentityLinker({
      pool: subscriptionPool,
      store,
      observer,
      candidateLimits: {
        candidates: config.IDENTITY_MAX_CANDIDATES ?? DEFAULT_CANDIDATE_LIMITS.candidates,
        block: config.IDENTITY_MAX_BLOCK ?? DEFAULT_CANDIDATE_LIMITS.block,
      },
    });
    await linker.start();
    // Analysts' pseudonymised model (issue 15): its own checkpoint, its own keyed pseudonyms.
    analysisModel = new AnalysisProjector({
      pool: subscriptionPool,
      store,
      pseudonymKey: analysisPseudonymKey(config),
      observer,
    });
    if (options.rebuild) await analysisModel.rebuild();
    else await analysisModel.start();
    // CP-IS-style access notifications: the read path writes them to the outbox, the relay publishes them.
    relay = new AccessNotificationRelay({ pool, config });
    await relay.start();
    const outbox = pool;
    const queries = new TimelineQueries(
      pool,
      access.breakGlass,
      {
        notifyRead: ({ childKey, requester, breakGlass, status }) =>
          notifyIfNeeded(outbox, {
            childKey,
            status: status ?? null,
            requester: requester.principal,
            purpose: requester.purpose,
            breakGlass,
            coalesceMinutes: config.ACCESS_NOTIFICATION_COALESCE_MINUTES,
          }),
      },
      { entryCache: config.TIMELINE_ENTRY_CACHE },
    );
    const review = new IdentityReview(pool, store, queries);
    // Outcome frameworks are versioned data, applied when reading (decision 015).
    frameworks = await FrameworkStore.open(pool, {
      seedFile: config.OUTCOME_FRAMEWORKS_FILE || undefined,
      refreshMs: config.OUTCOME_FRAMEWORKS_REFRESH_MS,
    });
    const outcomes = new OutcomeReads(queries, frameworks, new ReviewsDueQueries(pool), {
      reviewDueDays: config.REVIEW_DUE_DAYS,
      disagreementThreshold: config.DISAGREEMENT_THRESHOLD,
      answerCacheMb: config.OUTCOMES_ANSWER_CACHE_MB,
    });
    [timelineReads, outcomeReads] = [queries, outcomes];
    const [timeline, identity, analysed] = [projector, linker, analysisModel];
    const readiness = projectionReadiness(
      queries,
      { projection: () => timeline.status(), identityLinker: () => identity.status() },
      config.HEALTH_MAX_LAG_EVENTS,
    );
    const module = projectionHttpModule(
      {
        projector,
        queries,
        review,
        linker,
        breakGlass: access.breakGlass,
        policy: access.policy,
        reports: new GovernanceReports(pool),
        pageClient,
        pageSessions,
        log: access.log,
        outcomes,
        frameworks,
        analysis: new AnalysisQueries(pool),
        // The analysts' API: disclosure rules from the configuration, earlier answers for differencing.
        analysisQueryLog: new AnalysisQueryLog(pool),
        disclosureRules: disclosureRulesOf(config),
      },
      release,
      readiness,
    );
    const app = await createHttpApp(module, {
      title: 'Throughline projection',
      description:
        'Multi-agency timelines of children, linked across agencies. Every call needs a bearer access token ' +
        'from the OpenID provider (OIDC_ISSUER) and an x-purpose header; the access policy (roles, purposes, ' +
        'data-sharing agreements) decides what is answered and what is withheld, and every call is written ' +
        'to the access log before its answer leaves.',
      logger,
      metrics,
      edge: edgeSettingsOf(config),
      auditRefusal: access.auditRefusal,
      access: access.enhancers,
      docs: config.THROUGHLINE_MODE === 'development',
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
        await analysed.waitForPosition(head, timeoutMs);
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
