import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { cinCensusChunks } from '@throughline/synthetic';
import type { Admin, Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Agency } from '@throughline/contracts';
import { DEFAULT_LINKER_NAME, IdentityLinker, migrateIdentity } from '@throughline/identity';
import { DEFAULT_SUBSCRIPTION_BATCH_SIZE, PostgresEventStore } from '@throughline/event-store';
import { migrateTimeline, TimelineProjector } from '@throughline/timeline';
import { DEFAULT_PARTITIONS_CONCURRENTLY } from '@throughline/recording';
import { AGENCIES, createKafka, createPool, publisherCredentials } from '@throughline/platform';
import { APP_NAMES, projectRoot, startApp, type AppName, type AppProcess } from './app-process';
import { cpuBetween, snapshotCpu, type CpuWindow } from './cpu-usage';
import { withDeadline } from './deadline';
import { measureImport, measureParse, writeChunks, type ImportFixture } from './import-stage';
import {
  lookupChildKey,
  measureE2eLatency,
  measureMiddleLegs,
  type ProbeChild,
  type ReaderHeaders,
} from './e2e-latency';
import { DEMO_POLICY_FILE, startLocalOidcProvider, type LocalOidcProvider } from '@throughline/testing';
import {
  measureAppendBatches,
  measureAppendSingles,
  measureCatchUp,
  openStoreDatabase,
  storeInputsOf,
  benchAppUrl,
  createBenchDatabase,
  dropBenchDatabase,
  type AppendBatchThroughput,
  type StoreDatabase,
} from './event-store-stages';
import { measureGatewayIntake, type AgencyEndpoint, type GatewayThroughput } from './gateway-intake';
import {
  measureKafkaLatency,
  measureKafkaThroughput,
  type KafkaRawSetup,
  type KafkaThroughput,
} from './kafka-raw';
import {
  benchDatabaseUrl,
  benchStoreDatabaseUrl,
  benchTopicPrefix,
  loadBenchOptions,
  ALL_STAGE_GROUPS,
  stageTimeoutMs,
  type BenchOptions,
  type StageGroup,
} from './options';
import { generateBenchCohort, meanJsonBytes, splitByAgency, type BenchCohort } from './payloads';
import {
  measurePostgresRawCopy,
  measurePostgresRawInsert,
  measurePostgresRawSelect,
  measurePostgresRawSingleInserts,
  rawRowsOf,
  type ConcurrentSingles,
  type PostgresReadThroughput,
  type PostgresThroughput,
  type RawRow,
} from './postgres-raw';
import {
  backlogRate,
  eventsUpTo,
  projectionCheckpoint,
  storedEventCount,
  storeHeadPosition,
  watchProgress,
  type BacklogRate,
} from './progress';
import {
  formatTable,
  latencyAgainst,
  throughputAgainst,
  writeReport,
  type BenchReport,
  type Figure,
} from './report';
import { percentile } from './stats';
import { measureScaleout } from './scaleout';
import type { FleetContext } from './scaleout-fleet';
import { measureSoak } from './soak';
import { Teardown } from './teardown';
import { BUSY_CHILD_ENTRIES, measureOutcomeQueries } from './outcomes-query';
import { measureScaleStage } from './scale-stage';

/**
 * `npm run bench` (through scripts/bench.mjs, which builds and ensures the broker): the
 * ceilings first on a quiet machine, then the five apps as child processes from dist/,
 * driven over HTTP. Every stage has a deadline; a missed one fails the run.
 */

const PROJECTION_NAME = 'bench-timeline';
const APP_START_TIMEOUT_MS = 60_000;
const PROGRESS_POLL_MS = 10;
const PROBE_CHILDREN = 20;

const benchStarted = Date.now();

function say(message: string): void {
  const at = ((Date.now() - benchStarted) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${at} s] ${message}\n`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: projectRoot(), encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

interface Infrastructure {
  readonly options: BenchOptions;
  readonly databaseUrl: string;
  readonly pool: Pool;
  /** Only the `apps`, `scaleout` and `soak` stages use Kafka; a `store`-only run does not connect to it. */
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly teardown: Teardown;
  /** The apps stages' own OpenID provider: the apps trust it, the bench reads timelines with its tokens. */
  readonly oidc?: LocalOidcProvider;
}

/** The bench reads timelines as the demo social worker, for safeguarding (infra/access-policy.demo.json). */
const BENCH_READER = { user: 'demo-social-worker', purpose: 'safeguarding' } as const;
/** Tokens of the local provider last 15 minutes: fetch a new one after 10. */
const READER_TOKEN_REUSE_MS = 10 * 60_000;

function readerOf(oidc: LocalOidcProvider): () => Promise<ReaderHeaders> {
  let cached: { headers: ReaderHeaders; at: number } | undefined;
  return async () => {
    if (!cached || Date.now() - cached.at > READER_TOKEN_REUSE_MS) {
      const token = await oidc.token(BENCH_READER.user);
      cached = {
        headers: { authorization: `Bearer ${token}`, 'x-purpose': BENCH_READER.purpose },
        at: Date.now(),
      };
    }
    return cached.headers;
  };
}

async function openInfrastructure(options: BenchOptions, teardown: Teardown): Promise<Infrastructure> {
  const databaseUrl = benchDatabaseUrl(options);
  await createBenchDatabase(databaseUrl, benchAppUrl(databaseUrl, options.config.DATABASE_URL));
  teardown.add('drop the bench database', () => dropBenchDatabase(databaseUrl));
  const pool = createPool(databaseUrl, { max: 4 });
  teardown.add('close the bench pool', () => pool.end());
  if (options.stages.every((stage) => stage === 'store' || stage === 'scale')) {
    const noKafka = (): never => {
      throw new Error('Kafka is used only by the apps stages (BENCH_STAGES)');
    };
    // The scale stage reads over HTTP as the apps stages do, with tokens of a provider of its own.
    let oidc: LocalOidcProvider | undefined;
    if (options.stages.includes('scale')) {
      const provider = await startLocalOidcProvider();
      teardown.add('stop the OpenID provider', () => provider.stop());
      oidc = provider;
    }
    return {
      options,
      databaseUrl,
      pool,
      get kafka(): Kafka {
        return noKafka();
      },
      get admin(): Admin {
        return noKafka();
      },
      teardown,
      ...(oidc ? { oidc } : {}),
    };
  }
  const kafka = createKafka(options.config, 'bench', { clientSuffix: `bench-${options.runId}` });
  const admin = kafka.admin();
  await admin.connect();
  teardown.add('disconnect the bench admin', () => admin.disconnect());
  teardown.add("delete the run's topics and groups", () => deleteRunTopicsAndGroups(admin, options));
  const oidc = await startLocalOidcProvider();
  teardown.add('stop the OpenID provider', () => oidc.stop());
  return { options, databaseUrl, pool, kafka, admin, teardown, oidc };
}

/** Everything named after this run's id goes: the bench leaves nothing behind on a shared broker. */
async function deleteRunTopicsAndGroups(admin: Admin, options: BenchOptions): Promise<void> {
  const prefix = `bench.${options.runId}.`;
  const { groups } = await admin.listGroups();
  const ours = groups.map((group) => group.groupId).filter((groupId) => groupId.startsWith(prefix));
  if (ours.length > 0) await admin.deleteGroups(ours);
  const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
  if (topics.length > 0) await admin.deleteTopics({ topics });
}

// ---------------------------------------------------------------------------------------------
// Ceilings

/** A ceiling is the best the bare infrastructure did: each is measured this many times. */
const CEILING_RUNS = 3;

function best<T extends { readonly eventsPerSecond: number }>(runs: readonly T[]): T {
  return runs.reduce((top, run) => (run.eventsPerSecond > top.eventsPerSecond ? run : top));
}

function listRates(runs: readonly { readonly eventsPerSecond: number }[]): string {
  return runs.map((run) => Math.round(run.eventsPerSecond)).join(', ') + ' events/s';
}

function rawSetup(infra: Infrastructure, stage: string, timeoutMs: number): KafkaRawSetup {
  return {
    kafka: infra.kafka,
    admin: infra.admin,
    topic: `${benchTopicPrefix(infra.options, stage)}events`,
    partitions: infra.options.config.KAFKA_PARTITIONS,
    timeoutMs,
  };
}

/**
 * The ceilings on a quiet machine: Kafka and the multi-row INSERT for the apps stages, the
 * COPY for both groups (the recorder's ceiling and the batch append's).
 */
async function measureCeilings(
  infra: Infrastructure,
  cohort: BenchCohort,
  rows: readonly RawRow[],
): Promise<Figure[]> {
  const figures = infra.options.stages.includes('apps') ? await measureAppsCeilings(infra, cohort, rows) : [];
  figures.push(await measureCopyCeiling(infra, rows));
  return figures;
}

async function measureCopyCeiling(infra: Infrastructure, rows: readonly RawRow[]): Promise<Figure> {
  const runs: PostgresThroughput[] = [];
  for (let run = 1; run <= CEILING_RUNS; run++) {
    say(`postgres.raw_copy ${run}/${CEILING_RUNS}: one COPY FROM STDIN of ${rows.length} rows`);
    const measured = await measurePostgresRawCopy(infra.pool, rows, stageTimeoutMs(infra.options));
    runs.push(measured);
    say(`  ${Math.round(measured.eventsPerSecond)} events/s (${seconds(measured.elapsedMs)})`);
  }
  return {
    name: 'postgres.raw_copy.events_per_s',
    value: best(runs).eventsPerSecond,
    unit: 'events/s',
    note:
      `all ${rows.length} rows (event id, stream id, revision, type, data jsonb, metadata jsonb; the same payloads as ` +
      'every stage) in one COPY FROM STDIN, text format streamed in chunks of 1,000 rows (escaping timed), on one ' +
      `connection into a fresh table with only its primary key; best of ${CEILING_RUNS} runs (${listRates(runs)})`,
  };
}

async function measureAppsCeilings(
  infra: Infrastructure,
  cohort: BenchCohort,
  rows: readonly RawRow[],
): Promise<Figure[]> {
  const { options } = infra;
  const partitions = options.config.KAFKA_PARTITIONS;

  const kafkaRuns: KafkaThroughput[] = [];
  for (let run = 1; run <= CEILING_RUNS; run++) {
    say(
      `kafka.raw ${run}/${CEILING_RUNS}: ${cohort.events.length} events, sendBatch of ${options.batchSize}, ${partitions} partitions`,
    );
    const measured = await measureKafkaThroughput(
      rawSetup(infra, `raw-${run}`, stageTimeoutMs(options)),
      cohort.events,
      options.batchSize,
    );
    kafkaRuns.push(measured);
    say(
      `  ${Math.round(measured.eventsPerSecond)} events/s (produced in ${seconds(measured.produceMs)}, all consumed in ${seconds(measured.elapsedMs)})`,
    );
  }
  const kafka = best(kafkaRuns);

  const postgresRuns: PostgresThroughput[] = [];
  for (let run = 1; run <= CEILING_RUNS; run++) {
    say(`postgres.raw_insert ${run}/${CEILING_RUNS}: multi-row INSERT of ${options.batchSize}`);
    const measured = await measurePostgresRawInsert(
      infra.pool,
      rows,
      options.batchSize,
      stageTimeoutMs(options),
    );
    postgresRuns.push(measured);
    say(`  ${Math.round(measured.eventsPerSecond)} events/s (${seconds(measured.elapsedMs)})`);
  }
  const postgres = best(postgresRuns);

  const probeCount = options.latencyRatePerSecond * options.latencyDurationSeconds;
  say(`kafka.raw.latency: ${probeCount} single sends at ${options.latencyRatePerSecond}/s`);
  const latency = await measureKafkaLatency(
    rawSetup(infra, 'raw-latency', options.latencyDurationSeconds * 1000 + 60_000),
    cohort.events.slice(0, probeCount),
    options.latencyRatePerSecond,
  );
  say(`  p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms`);

  return [
    {
      name: 'kafka.raw.events_per_s',
      value: kafka.eventsPerSecond,
      unit: 'events/s',
      note:
        `plain kafkajs, idempotent producer, acks=-1, sendBatch of ${options.batchSize} with the agency services' headers, ` +
        `${partitions} partitions; a consumer group (eachBatch) joined before the first send; ` +
        `first send to last message consumed; best of ${CEILING_RUNS} runs on fresh topics (${listRates(kafkaRuns)})`,
    },
    {
      name: 'postgres.raw_insert.events_per_s',
      value: postgres.eventsPerSecond,
      unit: 'events/s',
      note:
        `multi-row INSERT of ${options.batchSize} rows (event id, stream id, revision, type, data jsonb, ` +
        'metadata jsonb) on one connection into a fresh table with only its primary key; ' +
        `best of ${CEILING_RUNS} runs (${listRates(postgresRuns)})`,
    },
    {
      name: 'kafka.raw.latency_p50_ms',
      value: latency.p50,
      unit: 'ms',
      note: `single messages at ${options.latencyRatePerSecond}/s for ${options.latencyDurationSeconds} s, from the send() call to arrival in a consumer group's eachBatch`,
    },
    {
      name: 'kafka.raw.latency_p99_ms',
      value: latency.p99,
      unit: 'ms',
      note: 'as kafka.raw.latency_p50_ms',
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// The event store, in-process, against its PostgreSQL ceilings

/** Goals (ratio to the ceiling) of the store stages (issue 3). */
const APPEND_BATCH_GOAL = 0.7;
const CATCH_UP_GOAL = 0.5;
/** Goal of the recorder against min(kafka.raw, postgres.raw_copy) (issue 3). */
const RECORDER_GOAL = 0.6;
/** A read of the whole store takes a few tenths of a second: more runs than the ceilings, for a steadier best. */
const READ_RUNS = 5;

function describeSingles(measured: ConcurrentSingles): string {
  const { latency } = measured;
  return (
    `${Math.round(measured.eventsPerSecond)} events/s; p50 ${latency.p50.toFixed(2)} ms, ` +
    `p99 ${latency.p99.toFixed(2)} ms, max ${latency.max.toFixed(1)} ms`
  );
}

interface StoreStages {
  readonly figures: Figure[];
  /** The appendMany batch size that did best (the one event_store.append_batch reports). */
  readonly appendBatchSize: number;
}

async function measureStoreStages(
  infra: Infrastructure,
  cohort: BenchCohort,
  rows: readonly RawRow[],
  copyCeiling: Figure,
): Promise<StoreStages> {
  const { options, teardown } = infra;
  const inputs = storeInputsOf(cohort.events, rows);
  const timeoutMs = stageTimeoutMs(options);

  // Batch appends: each batch size on an empty store of its own.
  const appendRuns: { readonly measured: AppendBatchThroughput; readonly database: StoreDatabase }[] = [];
  for (const batchSize of options.appendBatchSizes) {
    say(`event_store.append_batch: ${inputs.length} events, appendMany of ${batchSize} on an empty store`);
    const database = await openStoreDatabase(
      benchStoreDatabaseUrl(options, `append_${batchSize}`),
      2,
      teardown,
    );
    const measured = await measureAppendBatches(database, inputs, batchSize, timeoutMs);
    appendRuns.push({ measured, database });
    say(
      `  ${Math.round(measured.eventsPerSecond)} events/s (${measured.calls} calls in ${seconds(measured.elapsedMs)})`,
    );
  }
  const bestAppend = appendRuns.reduce((top, run) =>
    run.measured.eventsPerSecond > top.measured.eventsPerSecond ? run : top,
  );
  for (const run of appendRuns) if (run !== bestAppend) await run.database.dispose();
  const appendRates = appendRuns
    .map(({ measured }) => `${measured.batchSize}: ${Math.round(measured.eventsPerSecond)}`)
    .join(', ');

  // Reference: the same COPY into the store's own table, to tell the schema's cost from the code's.
  const schemaCopyRuns: PostgresThroughput[] = [];
  for (let run = 1; run <= CEILING_RUNS; run++) {
    say(
      `postgres.raw_copy_store_schema ${run}/${CEILING_RUNS}: the same COPY into an empty store's events table`,
    );
    const database = await openStoreDatabase(benchStoreDatabaseUrl(options, `copy_${run}`), 1, teardown);
    const measured = await measurePostgresRawCopy(database.pool, rows, timeoutMs, 'events');
    await database.dispose();
    schemaCopyRuns.push(measured);
    say(`  ${Math.round(measured.eventsPerSecond)} events/s (${seconds(measured.elapsedMs)})`);
  }

  // Reading back the store the best batch size filled: raw keyset SELECT and catch-up, alternated.
  const filled = bestAppend.database;
  const batchSize = options.subscriptionBatchSize;
  const selectRuns: PostgresReadThroughput[] = [];
  const catchUpRuns: { readonly eventsPerSecond: number; readonly elapsedMs: number }[] = [];
  for (let run = 1; run <= READ_RUNS; run++) {
    say(`postgres.raw_select ${run}/${READ_RUNS}: keyset pages of ${batchSize} by position`);
    const selected = await measurePostgresRawSelect(filled.pool, inputs.length, batchSize, timeoutMs);
    selectRuns.push(selected);
    say(
      `  ${Math.round(selected.eventsPerSecond)} events/s (${selected.queries} queries in ${seconds(selected.elapsedMs)})`,
    );
    say(
      `event_store.catch_up ${run}/${READ_RUNS}: subscribeToAll from 0, batches of ${batchSize}, to the head`,
    );
    const caughtUp = await measureCatchUp(filled, inputs.length, batchSize, timeoutMs);
    catchUpRuns.push(caughtUp);
    say(
      `  ${Math.round(caughtUp.eventsPerSecond)} events/s (${caughtUp.batches} batches in ${seconds(caughtUp.elapsedMs)})`,
    );
  }
  await filled.dispose();

  // Single-event appends from concurrent writers, against single-row INSERTs from as many.
  const writers = options.singleAppendWriters;
  const singleInputs = inputs.slice(0, options.singleAppendEvents);
  const singleDatabase = await openStoreDatabase(benchStoreDatabaseUrl(options, 'single'), writers, teardown);
  say(`postgres.raw_single_insert: ${singleInputs.length} one-row INSERTs, ${writers} writers`);
  const rawSingles = await measurePostgresRawSingleInserts(
    singleDatabase.pool,
    rows.slice(0, singleInputs.length),
    writers,
    timeoutMs,
  );
  say(`  ${describeSingles(rawSingles)}`);
  say(`event_store.append_single: ${singleInputs.length} single-event appends, ${writers} writers`);
  const singles = await measureAppendSingles(singleDatabase, singleInputs, writers, timeoutMs);
  say(`  ${describeSingles(singles)}`);
  await singleDatabase.dispose();

  const rawSelect: Figure = {
    name: 'postgres.raw_select.events_per_s',
    value: best(selectRuns).eventsPerSecond,
    unit: 'events/s',
    note:
      `the store's events table (filled by the best append_batch run) read start to end on one connection: ` +
      `SELECT of the store's columns WHERE position > last ORDER BY position LIMIT ${batchSize}, jsonb parsed by pg ` +
      `as for the store; best of ${READ_RUNS} runs (${listRates(selectRuns)})`,
  };
  const singlesNote = `${singleInputs.length} events, ${writers} writers (one connection each, closed loop), no two on the same stream`;
  const rawSingleRate: Figure = {
    name: 'postgres.raw_single_insert.events_per_s',
    value: rawSingles.eventsPerSecond,
    unit: 'events/s',
    note: `one-row INSERT, each its own transaction, into a fresh table with only its primary key; ${singlesNote}`,
  };
  const rawSingleP50: Figure = {
    name: 'postgres.raw_single_insert.p50_ms',
    value: rawSingles.latency.p50,
    unit: 'ms',
    note: 'as postgres.raw_single_insert.events_per_s, each INSERT timed',
  };
  const rawSingleP99: Figure = {
    ...rawSingleP50,
    name: 'postgres.raw_single_insert.p99_ms',
    value: rawSingles.latency.p99,
  };
  const singleNote = `append(streamId, [event], 'any') on an empty store; ${singlesNote}; each call timed`;

  const figures = [
    {
      name: 'postgres.raw_copy_store_schema.events_per_s',
      value: best(schemaCopyRuns).eventsPerSecond,
      unit: 'events/s',
      note:
        "reference, not a ceiling: the postgres.raw_copy COPY into an empty store's own events table (position " +
        'from its sequence, unique event id and (stream, revision), CHECKs): what the schema alone costs against ' +
        `the bare table; best of ${CEILING_RUNS} runs (${listRates(schemaCopyRuns)})`,
    },
    throughputAgainst(
      'event_store.append_batch.events_per_s',
      bestAppend.measured.eventsPerSecond,
      copyCeiling,
      `PostgresEventStore.appendMany, one call after another on one store, batches of ${bestAppend.measured.batchSize} ` +
        `events (the best of the batch sizes tried; events/s by batch size: ${appendRates}), one StreamAppend per ` +
        "stream in a batch with expectation 'any', as the recorder groups a batch; an empty store for each batch size",
      APPEND_BATCH_GOAL,
    ),
    rawSelect,
    throughputAgainst(
      'event_store.catch_up.events_per_s',
      best(catchUpRuns).eventsPerSecond,
      rawSelect,
      `subscribeToAll from position 0 with batchSize ${batchSize} (the projection's) over the same table until the ` +
        "handler (counting only) is given the head; the subscription's LISTEN connection is inside the time; best of " +
        `${READ_RUNS} runs (${listRates(catchUpRuns)}), alternated with the raw SELECT runs`,
      CATCH_UP_GOAL,
    ),
    rawSingleRate,
    rawSingleP50,
    rawSingleP99,
    latencyAgainst('event_store.append_single.p50_ms', singles.latency.p50, rawSingleP50, singleNote),
    latencyAgainst(
      'event_store.append_single.p99_ms',
      singles.latency.p99,
      rawSingleP99,
      'as event_store.append_single.p50_ms',
    ),
    throughputAgainst(
      'event_store.append_single.events_per_s',
      singles.eventsPerSecond,
      rawSingleRate,
      `the same run as event_store.append_single.p50_ms: ${singleInputs.length} events over the whole run's time`,
    ),
  ];
  return { figures, appendBatchSize: bestAppend.measured.batchSize };
}

// ---------------------------------------------------------------------------------------------
// The apps

function appEnvironment(
  infra: Infrastructure,
  topicPrefix: string,
  databaseUrl = infra.databaseUrl,
  recorderGroup = `${topicPrefix}recorder`,
): Record<string, string> {
  const { config, runId } = infra.options;
  return {
    // As in production: the apps connect as the app role and migrate as the owner (decision 011).
    DATABASE_URL: benchAppUrl(databaseUrl, config.DATABASE_URL),
    DATABASE_OWNER_URL: databaseUrl,
    DATABASE_ADMIN_URL: config.DATABASE_ADMIN_URL,
    KAFKA_BROKERS: config.KAFKA_BROKERS,
    KAFKA_CLIENT_ID: `bench-${runId}`,
    KAFKA_TOPIC_PREFIX: topicPrefix,
    KAFKA_PARTITIONS: String(config.KAFKA_PARTITIONS),
    EVENT_STORE: 'postgres',
    PUBLISHER_KEYS: config.PUBLISHER_KEYS.join(','),
    RECORDER_GROUP_ID: recorderGroup,
    PROJECTION_NAME,
    LOG_LEVEL: 'warn',
    // Every read is governed: the apps trust the run's OpenID provider and load the demo policy.
    ...(infra.oidc ? { ...infra.oidc.env, ACCESS_POLICY_FILE: DEMO_POLICY_FILE } : {}),
    OUTCOME_FRAMEWORKS_FILE: join(projectRoot(), 'infra', 'outcome-frameworks.json'),
  };
}

/**
 * The apps' own Kafka principals on the run's topics and recorder group: infra/kafka.mjs creates
 * them as the broker's admin (the bench's own principal is confined to bench. names).
 */
function grantAppAccess(env: Record<string, string>): void {
  const { KAFKA_TOPIC_PREFIX: prefix, RECORDER_GROUP_ID: group } = env;
  execFileSync(
    process.execPath,
    [join(projectRoot(), 'infra', 'kafka.mjs'), 'grant', '--prefix', prefix, '--group', group],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/**
 * Every app answers 200 here once it has started (each listens only after its consumer or
 * subscription runs). Not /health/ready: a projection catching up on a backlog is not ready
 * until its lag is under HEALTH_MAX_LAG_EVENTS, and the catch-up is what is measured.
 */
const READINESS_PATH = '/health/live';

class RunningApps {
  private readonly apps = new Map<AppName, AppProcess>();

  /** `logFolder`: under bench/results/logs, for a second set of the same apps. */
  constructor(
    private readonly infra: Infrastructure,
    private readonly env: Record<string, string>,
    private readonly logFolder = '',
  ) {}

  async start(name: AppName): Promise<AppProcess> {
    const app = await startApp(
      {
        name,
        env: this.env,
        readinessPath: READINESS_PATH,
        timeoutMs: APP_START_TIMEOUT_MS,
        logDirectory: join(projectRoot(), 'bench', 'results', 'logs', this.logFolder),
      },
      this.infra.options.config.HOST,
    );
    this.apps.set(name, app);
    this.infra.teardown.add(`stop ${name}`, () => app.stop());
    say(`  ${name} ready at ${app.url} (pid ${app.pid}, log ${app.logFile})`);
    return app;
  }

  /** Starts several at once; waits for every start to settle so none is left running untracked. */
  async startAll(names: readonly AppName[]): Promise<void> {
    const failed = (await Promise.allSettled(names.map((name) => this.start(name)))).find(
      (result) => result.status === 'rejected',
    );
    if (failed) throw failed.reason;
  }

  /** Stops them all now rather than at teardown. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.apps.values()].map((app) => app.stop()));
    this.apps.clear();
  }

  /** The running apps' names, by process id. */
  pids(): Map<number, string> {
    return new Map([...this.apps.values()].map((app) => [app.pid, app.name]));
  }

  get(name: AppName): AppProcess {
    const app = this.apps.get(name);
    if (!app) throw new Error(`${name} is not running`);
    return app;
  }

  /** Starts an app while watching the database it fills; the app is stopped at teardown whatever happens. */
  async startWhileWatching<T>(name: AppName, watch: () => Promise<T>): Promise<T> {
    const [started, watched] = await Promise.allSettled([this.start(name), watch()]);
    if (started.status === 'rejected') throw started.reason;
    if (watched.status === 'rejected') throw watched.reason;
    return watched.value;
  }
}

function agencyEndpoints(infra: Infrastructure, apps: RunningApps): AgencyEndpoint[] {
  const credentials = publisherCredentials(infra.options.config);
  return AGENCIES.map((agency: Agency) => {
    const credential = credentials.find((entry) => entry.agency === agency);
    if (!credential) throw new Error(`PUBLISHER_KEYS has no key for ${agency}`);
    return { agency, url: apps.get(agency).url, key: credential.key };
  });
}

/** The gateway stage's measured runs, after one to warm up; the figure is their median. */
const GATEWAY_RUNS = 3;
const GATEWAY_GOAL = 0.6;

/**
 * The gateway's intake in the steady state of long-running agency services: three services of
 * the stage's own, on topics of their own (`bench.<run>.gateway.`), take the cohort once to warm
 * up (a process's first requests run before V8 has compiled its code), then GATEWAY_RUNS times;
 * the figure is the median, every run in its note. The ceiling it is set against is the best
 * of three raw Kafka runs. The apps stage's own agency services then take the cohort once, on
 * the apps' topics, for the recorder stage to find each event there once.
 */
async function measureGatewayStage(
  infra: Infrastructure,
  apps: RunningApps,
  cohort: BenchCohort,
  kafkaCeiling: Figure,
): Promise<Figure> {
  const { options } = infra;
  const byAgency = splitByAgency(cohort.events);
  const timeoutMs = stageTimeoutMs(options);
  const stageEnvironment = appEnvironment(infra, benchTopicPrefix(options, 'gateway'));
  grantAppAccess(stageEnvironment);
  const stageApps = new RunningApps(infra, stageEnvironment, 'gateway');
  say('starting the gateway stage’s agency services (topics of their own)');
  await stageApps.startAll(AGENCIES);
  say(
    `gateway.batch_intake: ${AGENCIES.map((agency) => `${byAgency[agency].length} ${agency}`).join(', ')} ` +
      `in POSTs of ${options.batchSize}, once to warm up, then ${GATEWAY_RUNS} times`,
  );
  const describe = (intake: GatewayThroughput) =>
    `${Math.round(intake.eventsPerSecond)} events/s (${intake.requests} requests in ${seconds(intake.elapsedMs)})`;
  const endpoints = agencyEndpoints(infra, stageApps);
  const warmUp = await measureGatewayIntake(endpoints, byAgency, options.batchSize, timeoutMs);
  say(`  warm-up: ${describe(warmUp)}`);
  const runs: number[] = [];
  for (let run = 1; run <= GATEWAY_RUNS; run++) {
    const intake = await measureGatewayIntake(endpoints, byAgency, options.batchSize, timeoutMs);
    runs.push(intake.eventsPerSecond);
    say(`  run ${run}: ${describe(intake)}`);
  }
  await stageApps.stopAll();

  say('starting the agency services');
  await apps.startAll(AGENCIES);
  const once = await measureGatewayIntake(
    agencyEndpoints(infra, apps),
    byAgency,
    options.batchSize,
    timeoutMs,
  );
  say(`  the cohort once more, to the apps’ topics for the recorder: ${describe(once)}`);
  const rate = (value: number) => Math.round(value).toString();
  return throughputAgainst(
    'gateway.batch_intake.events_per_s',
    percentile(runs, 50),
    kafkaCeiling,
    `POST /v1/events/batch of ${options.batchSize} over real HTTP to the three agency services (child processes); ` +
      'one request at a time per agency, the agencies at once; first POST to last 202, every event accepted; ' +
      `median of ${GATEWAY_RUNS} runs (${runs.map(rate).join(', ')} events/s) after one to warm up ` +
      `(${rate(warmUp.eventsPerSecond)}); the apps' own services, not warmed up, took the cohort at ` +
      `${rate(once.eventsPerSecond)} events/s`,
    GATEWAY_GOAL,
  );
}

async function measureRecorderStage(
  infra: Infrastructure,
  apps: RunningApps,
  cohort: BenchCohort,
  ceiling: Figure,
): Promise<Figure> {
  const total = cohort.events.length;
  say(
    `recorder: ${total} events waiting on fresh agency topics (written by the gateway stage); starting the recorder`,
  );
  const since = process.hrtime.bigint();
  const watch = await apps.startWhileWatching('recorder', () =>
    watchProgress(
      () => storeHeadPosition(infra.pool),
      async (head) => {
        if (head < total) return false;
        const stored = await storedEventCount(infra.pool);
        if (stored > total) throw new Error(`the store holds ${stored} events, expected ${total}`);
        return stored === total;
      },
      { stage: 'recorder', timeoutMs: stageTimeoutMs(infra.options), intervalMs: PROGRESS_POLL_MS },
    ),
  );
  const rate = backlogRate(watch, total, await eventsUpTo(infra.pool, watch.firstValue), since);
  await expectCleanRecorder(apps.get('recorder'), total, infra.oidc);
  say(`  ${Math.round(rate.eventsPerSecond)} events/s (${describeBacklog(rate)})`);
  return throughputAgainst(
    'recorder.events_per_s',
    rate.eventsPerSecond,
    ceiling,
    `ceiling is the lower of kafka.raw and postgres.raw_copy (here ${ceiling.name}); ` +
      `recorder as a child process, fresh group and database; rate from the first stored event seen to the last ` +
      `(store head position polled every ${PROGRESS_POLL_MS} ms; ${describeBacklog(rate)}); ` +
      `${infra.options.config.KAFKA_PARTITIONS} partitions per topic, up to ${DEFAULT_PARTITIONS_CONCURRENTLY} recorded at once`,
    RECORDER_GOAL,
  );
}

function describeBacklog(rate: BacklogRate): string {
  return (
    `${rate.doneAtFirstSight} already done at first sight, the rest in ${seconds(rate.windowMs)}; ` +
    `${seconds(rate.coldMs)} from spawn including start-up`
  );
}

async function expectCleanRecorder(
  recorder: AppProcess,
  total: number,
  oidc: LocalOidcProvider | undefined,
): Promise<void> {
  // The status route is for operators: the demo monitoring system's token.
  const headers: Record<string, string> = oidc
    ? { authorization: `Bearer ${await oidc.token('demo-monitoring')}` }
    : {};
  const response = await fetch(`${recorder.url}/v1/recorder/status`, { headers });
  const metrics = (await response.json()) as { eventsStored: number; deadLettered: number };
  if (metrics.deadLettered !== 0 || metrics.eventsStored !== total) {
    throw new Error(
      `recorder metrics: ${JSON.stringify(metrics)}; expected ${total} stored and nothing dead-lettered`,
    );
  }
}

/** The identity linker's committed checkpoint (a store position); fails until its table exists. */
async function linkerCheckpoint(pool: Pool): Promise<number> {
  const result = await pool.query<{ position: string }>(
    'SELECT position FROM identity_linker_checkpoints WHERE name = $1',
    [DEFAULT_LINKER_NAME],
  );
  return Number(result.rows[0]?.position ?? 0);
}

/**
 * The projection app catches up on the filled store: its timeline projector and its identity
 * linker (each with its own checkpoint) work through the same backlog at once, each timed
 * from its own first checkpoint seen to the head the stage started at.
 */
async function measureProjectionStage(
  infra: Infrastructure,
  apps: RunningApps,
  total: number,
  ceiling: Figure,
): Promise<Figure[]> {
  const head = await storeHeadPosition(infra.pool);
  say(
    `projection: catching up on ${total} stored events (head position ${head}); starting the projection ` +
      '(timeline projector and identity linker)',
  );
  const since = process.hrtime.bigint();
  const untilHead = (stage: string, checkpoint: () => Promise<number>) =>
    watchProgress(checkpoint, async (position) => position >= head, {
      stage,
      timeoutMs: stageTimeoutMs(infra.options),
      intervalMs: PROGRESS_POLL_MS,
    });
  const [projected, linked] = await apps.startWhileWatching('projection', () =>
    Promise.all([
      untilHead('projection', () => projectionCheckpoint(infra.pool, PROJECTION_NAME)),
      untilHead('identity linker', () => linkerCheckpoint(infra.pool)),
    ]),
  );
  const projection = backlogRate(projected, total, await eventsUpTo(infra.pool, projected.firstValue), since);
  const linker = backlogRate(linked, total, await eventsUpTo(infra.pool, linked.firstValue), since);
  say(`  projector ${Math.round(projection.eventsPerSecond)} events/s (${describeBacklog(projection)})`);
  say(`  identity linker ${Math.round(linker.eventsPerSecond)} events/s (${describeBacklog(linker)})`);
  return [
    throughputAgainst(
      'projection.catchup_events_per_s',
      projection.eventsPerSecond,
      ceiling,
      'projection as a child process catching up on the whole store into empty read models (its identity linker ' +
        'and analysis model catching up beside it, on the same two cores: projection.rebuild.events_per_s is the ' +
        `projector alone); rate from the first checkpoint seen to the head (checkpoint polled every ` +
        `${PROGRESS_POLL_MS} ms; ${describeBacklog(projection)})`,
    ),
    throughputAgainst(
      'identity.linker.catchup_events_per_s',
      linker.eventsPerSecond,
      ceiling,
      'the identity linker inside the projection child process, from an empty linker state, beside the projector ' +
        'catching up at the same time; rate from the first linker checkpoint seen to the head the stage started at ' +
        `(${DEFAULT_LINKER_NAME} in identity_linker_checkpoints polled every ${PROGRESS_POLL_MS} ms; the identity ` +
        `events it appends past that head are not counted; ${describeBacklog(linker)})`,
    ),
  ];
}

/** Read models must rebuild at the disk's speed (issue 16): goal against postgres.raw_copy. */
const REBUILD_GOAL = 0.3;
/**
 * Rebuilds of each subscription; the figure is their median. One rebuild of the bench's store
 * takes two seconds or so, and single runs of the same code were seen 1.5× apart.
 */
const REBUILD_RUNS = 3;

interface Rebuildable {
  start(): Promise<void>;
  stop(): Promise<void>;
  rebuild(): Promise<void>;
  waitForPosition(position: bigint, timeoutMs?: number): Promise<void>;
}

/**
 * Each subscription rebuilt on its own, in the bench process, from the store the apps filled
 * (agency events and the linker's identity events), into empty tables of a scratch database:
 * the timeline projector first, then the identity linker, one after the other, while the apps
 * are idle; each REBUILD_RUNS times (the first from start() on empty tables, the others from
 * rebuild(), which empties them first). Timed to the committed checkpoint reaching the head.
 */
async function measureRebuildStage(infra: Infrastructure, ceiling: Figure): Promise<Figure[]> {
  const head = BigInt(await storeHeadPosition(infra.pool));
  const events = await storedEventCount(infra.pool);
  const url = benchStoreDatabaseUrl(infra.options, 'rebuild');
  await createBenchDatabase(url);
  const pool = createPool(url, { max: 3 });
  const store = await PostgresEventStore.create({ connectionString: infra.databaseUrl });
  infra.teardown.add('drop the rebuild database', async () => {
    await store.close();
    await pool.end();
    await dropBenchDatabase(url);
  });
  await migrateTimeline(pool);
  await migrateIdentity(pool);
  const timeoutMs = stageTimeoutMs(infra.options);
  /** Events a second of each run. */
  const rates = async (subscription: Rebuildable): Promise<number[]> => {
    const measured: number[] = [];
    try {
      for (let run = 0; run < REBUILD_RUNS; run++) {
        const since = process.hrtime.bigint();
        await (run === 0 ? subscription.start() : subscription.rebuild());
        await subscription.waitForPosition(head, timeoutMs);
        const ms = Number(process.hrtime.bigint() - since) / 1e6;
        measured.push(events / (ms / 1000));
        say(`  run ${run + 1}: ${Math.round(measured[run])} events/s (${seconds(ms)})`);
      }
    } finally {
      await subscription.stop();
    }
    return measured;
  };
  const describeRuns = (measured: readonly number[]) =>
    `median of ${measured.length} runs: ${measured.map((rate) => Math.round(rate)).join(', ')} events/s`;
  say(
    `projection.rebuild: the timeline projector alone, ${events} stored events (head ${head}) into empty read models`,
  );
  const projection = await rates(new TimelineProjector({ pool, store, name: 'bench-rebuild' }));
  say('identity.linker.rebuild: the identity linker alone, from an empty linker state');
  const linker = new IdentityLinker({ pool, store });
  const linked = await rates(linker);
  const appended = (await linker.status()).appendedEvents;
  const how =
    `in the bench process, alone (the apps idle, the other subscription not running), from the store the apps ` +
    `filled (${events} events: the agency events and the linker's identity events) into empty tables of a scratch ` +
    `database, batches of ${DEFAULT_SUBSCRIPTION_BATCH_SIZE} (the runner's default); start() (then rebuild(), which empties the tables) to the committed checkpoint at the head`;
  return [
    throughputAgainst(
      'projection.rebuild.events_per_s',
      percentile(projection, 50),
      ceiling,
      `the timeline projector ${how}; ${describeRuns(projection)}`,
      REBUILD_GOAL,
    ),
    throughputAgainst(
      'identity.linker.rebuild.events_per_s',
      percentile(linked, 50),
      ceiling,
      `the identity linker ${how}; ${describeRuns(linked)}; its decisions are in the store already, so it appends ` +
        `${appended === 0 ? 'nothing' : `${appended} events`} (identity.linker.catchup_events_per_s is the first pass, which appends them)`,
      REBUILD_GOAL,
    ),
  ];
}

/** Children spread over the cohort whose health record is in the bench events, with their child keys. */
async function probeChildren(
  projectionUrl: string,
  cohort: BenchCohort,
  reader: ReaderHeaders,
): Promise<ProbeChild[]> {
  // Health events without special categories: the demo policy shares them with the bench's reader.
  const lastHealthEvent = new Map(
    cohort.events
      .filter((event) => event.agency === 'health' && !event.event.specialCategories?.length)
      .map((event) => [event.event.subject.recordId, event]),
  );
  const candidates = cohort.children.filter((child) => lastHealthEvent.has(child.records.health.recordId));
  const step = Math.max(1, Math.floor(candidates.length / PROBE_CHILDREN));
  const chosen = candidates.filter((_, index) => index % step === 0).slice(0, PROBE_CHILDREN);
  return Promise.all(
    chosen.map(async (child) => {
      const template = lastHealthEvent.get(child.records.health.recordId)!.event;
      return { childKey: await lookupChildKey(projectionUrl, template, reader), template };
    }),
  );
}

async function measureLatencyStage(
  infra: Infrastructure,
  apps: RunningApps,
  cohort: BenchCohort,
  ceilings: { readonly p50: Figure; readonly p99: Figure },
): Promise<Figure[]> {
  const { options } = infra;
  const count = options.latencyRatePerSecond * options.latencyDurationSeconds;
  const projection = apps.get('projection');
  if (!infra.oidc) throw new Error('the latency stage needs the apps stages OpenID provider');
  const reader = readerOf(infra.oidc);
  const firstReader = await reader();
  const children = await withDeadline('e2e.latency lookups', 30_000, () =>
    probeChildren(projection.url, cohort, firstReader),
  );
  say(
    `e2e.latency: ${count} single events at ${options.latencyRatePerSecond}/s over ${children.length} children, ` +
      `checkpoint polled every ${options.visibilityPollMs} ms, then the timeline read`,
  );
  const health = agencyEndpoints(infra, apps).find((endpoint) => endpoint.agency === 'health')!;
  const cpuBefore = snapshotCpu();
  const latency = await measureE2eLatency(health, projection.url, infra.pool, children, {
    count,
    ratePerSecond: options.latencyRatePerSecond,
    pollIntervalMs: options.visibilityPollMs,
    timeoutMs: options.latencyDurationSeconds * 1000 + 60_000,
    projectionName: PROJECTION_NAME,
    reader,
  });
  const cpu = cpuBetween(cpuBefore, snapshotCpu(), apps.pids());
  const { recorded, recordedToProjected } = await measureMiddleLegs(
    infra.pool,
    latency.acceptedAtWallMs,
    latency.projectedAtWallMs,
  );
  const { visible, projected, published, queried } = latency;
  const legs = (label: string, summary: { p50: number; p99: number }) =>
    `${label} p50 ${summary.p50.toFixed(1)} / p99 ${summary.p99.toFixed(1)} ms`;
  say(
    `  ${legs('visible', visible)}; ${legs('projected', projected)} ` +
      `(${latency.timelineReads} timeline reads, ${latency.misses} misses)\n` +
      `  legs: ${legs('gateway (POST → 202)', published)}; ${legs('Kafka + recorder (202 → append)', recorded)}; ` +
      `${legs('store + projection (append → checkpoint seen)', recordedToProjected)}; ${legs('query (timeline GET)', queried)}\n` +
      `  CPU: machine ${(cpu.machineBusy * 100).toFixed(0)} % busy over ${seconds(cpu.elapsedMs)} (${os.availableParallelism()} cores); ms per event: ` +
      cpu.shares.map(({ name, cpuMs }) => `${name} ${(cpuMs / count).toFixed(2)}`).join(', '),
  );
  const note =
    `POST /v1/events (one event) to health at ${options.latencyRatePerSecond}/s for ${options.latencyDurationSeconds} s, ` +
    `round-robin over ${children.length} children; from the 202 to the arrival of a GET timeline response listing ` +
    `the entry. Each event's timeline is read once the projection checkpoint covers it (checked in the database ` +
    `every ${options.visibilityPollMs} ms for all pending events, so polling puts no load on the apps); ` +
    `${latency.timelineReads} reads, ${latency.misses} of them not yet listing the entry. ` +
    'gateway → Kafka → recorder → store → projection → query, all child processes';
  return [
    latencyAgainst('e2e.latency_p50_ms', visible.p50, ceilings.p50, note),
    latencyAgainst('e2e.latency_p99_ms', visible.p99, ceilings.p99, 'as e2e.latency_p50_ms'),
    {
      name: 'e2e.accepted_to_recorded_p50_ms',
      value: recorded.p50,
      unit: 'ms',
      note:
        "first leg of the same probe events: the 202 to the start of the recorder's append transaction " +
        "(the store's recorded_at, read afterwards; same machine clock)",
    },
    {
      name: 'e2e.accepted_to_recorded_p99_ms',
      value: recorded.p99,
      unit: 'ms',
      note: 'as e2e.accepted_to_recorded_p50_ms',
    },
    {
      name: 'e2e.accepted_to_projected_p50_ms',
      value: projected.p50,
      unit: 'ms',
      note: `the 202 to the projection checkpoint (committed with the read models) covering the event, seen within ${options.visibilityPollMs} ms`,
    },
    {
      name: 'e2e.accepted_to_projected_p99_ms',
      value: projected.p99,
      unit: 'ms',
      note: 'as e2e.accepted_to_projected_p50_ms',
    },
    ...legFigures(
      'e2e.gateway',
      published,
      'before the 202: POST /v1/events sent to its 202 (checks, Kafka acknowledgement)',
    ),
    ...legFigures(
      'e2e.recorded_to_projected',
      recordedToProjected,
      "the recorder's append transaction start (recorded_at) to the projection checkpoint seen covering the event " +
        `(append commit, NOTIFY, projection batch and commit, checkpoint polled every ${options.visibilityPollMs} ms)`,
    ),
    ...legFigures('e2e.query', queried, 'the confirming GET timeline, request sent to body parsed'),
    ...cpuFigures(cpu, count),
  ];
}

const CPU_PART_NOTES: Readonly<Record<string, string>> = {
  postgres:
    'CPU of every postgres process over the probe (/proc/<pid>/stat; ones that ended inside it are missed)',
  java: 'CPU of every java process (the broker) over the probe (/proc/<pid>/stat)',
  other: "the machine's busy time less every part named (the kernel's own work, other processes)",
};

/**
 * Where the CPU went while the probe ran: the machine's busy share and each part's CPU per probe
 * event. Near 1, every leg above includes waiting for a core.
 */
function cpuFigures(cpu: CpuWindow, events: number): Figure[] {
  return [
    {
      name: 'e2e.cpu.machine_busy_ratio',
      value: cpu.machineBusy,
      unit: 'ratio',
      note:
        `busy share of all ${os.availableParallelism()} cores (/proc/stat) over the ${seconds(cpu.elapsedMs)} of the e2e probe; ` +
        'near 1 the legs include waiting for a core',
    },
    ...cpu.shares.map(({ name, cpuMs }) => ({
      name: `e2e.cpu.${name}_ms_per_event`,
      value: cpuMs / events,
      unit: 'ms',
      note: `${CPU_PART_NOTES[name] ?? `CPU of the ${name} process over the probe (/proc/<pid>/stat)`}, per probe event`,
    })),
  ];
}

/** A leg's p50 and p99 as figures `<name>_p50_ms` and `<name>_p99_ms`. */
function legFigures(name: string, summary: { p50: number; p99: number }, note: string): Figure[] {
  return [
    { name: `${name}_p50_ms`, value: summary.p50, unit: 'ms', note },
    { name: `${name}_p99_ms`, value: summary.p99, unit: 'ms', note: `as ${name}_p50_ms` },
  ];
}

/** Reads of one child's outcomes and decisions, derived per request (decision 015): goal p99 <= 50 ms. */
const OUTCOME_QUERY_GOAL_MS = 50;
const OUTCOME_QUERY_READS = 200;

async function measureOutcomeQueryStage(infra: Infrastructure, apps: RunningApps): Promise<Figure[]> {
  if (!infra.oidc) throw new Error('the outcomes stage needs the apps stages OpenID provider');
  say(`outcomes.query: one child with ${BUSY_CHILD_ENTRIES} entries, ${OUTCOME_QUERY_READS} reads each`);
  const measured = await measureOutcomeQueries(infra.databaseUrl, infra.pool, apps.get('projection').url, {
    projectionName: PROJECTION_NAME,
    reader: readerOf(infra.oidc),
    reads: OUTCOME_QUERY_READS,
    timeoutMs: stageTimeoutMs(infra.options),
  });
  say(
    `  outcomes p50 ${measured.outcomesP50.toFixed(1)} / p99 ${measured.outcomesP99.toFixed(1)} ms; ` +
      `decisions p50 ${measured.decisionsP50.toFixed(1)} / p99 ${measured.decisionsP99.toFixed(1)} ms; ` +
      `timeline p50 ${measured.timelineP50.toFixed(1)} / p99 ${measured.timelineP99.toFixed(1)} ms; ` +
      `first outcomes read ${measured.outcomesFirstRead.toFixed(1)} ms`,
  );
  const note =
    `GET /v1/children/{childKey}/outcomes?framework=ecm of one child with ${measured.entries} entries (ratings from ` +
    'three perspectives, decisions with expected outcomes and reviews), as the demo social worker; ' +
    `${measured.reads} sequential reads after 10 warm-up reads, interleaved with the timeline and decisions reads ` +
    "(the child's entries held between reads: see outcomes.query.first_read_ms); " +
    `ratio = goal ${OUTCOME_QUERY_GOAL_MS} ms / value`;
  const againstGoal = (name: string, value: number, text: string): Figure => ({
    name,
    value,
    unit: 'ms',
    ratio: OUTCOME_QUERY_GOAL_MS / value,
    goal_ratio: 1,
    note: text,
  });
  return [
    againstGoal('outcomes.query.p99_ms', measured.outcomesP99, note),
    againstGoal(
      'decisions.query.p99_ms',
      measured.decisionsP99,
      'GET /v1/children/{childKey}/decisions of the same child, as outcomes.query.p99_ms',
    ),
    {
      name: 'outcomes.query.first_read_ms',
      value: measured.outcomesFirstRead,
      unit: 'ms',
      note:
        'the first GET outcomes of the same child once projected, one sample: its chronology read and parsed from ' +
        'the read model rather than found held between reads (TIMELINE_ENTRY_CACHE)',
    },
    {
      name: 'timeline.busy_child.query.p99_ms',
      value: measured.timelineP99,
      unit: 'ms',
      note: 'GET /v1/children/{childKey}/timeline of the same child: the read outcomes and decisions are derived from',
    },
  ];
}

/** The import stage's file sizes: the goal's 10,000 children, and a quarter of it to see memory stay flat. */
const IMPORT_CHILDREN = 10_000;
const IMPORT_SMALL_CHILDREN = 2_500;

const IMPORT_FIXTURES: readonly (ImportFixture & { readonly figure: string })[] = [
  {
    format: 'cin-census',
    cliFormat: 'cin-census',
    figure: 'cin_census',
    write: async (directory, children) => {
      const path = join(directory, 'cin-census.xml');
      await writeChunks(
        path,
        cinCensusChunks({ children, laCode: '991', collectionYear: '2024-25', seed: 'bench' }),
      );
      return path;
    },
  },
];

/**
 * `npm run import` of synthetic returns (issue 14): the CLI as a child process, through the
 * social-care service's gateway to Kafka, while the recorder and read models run. Goal: bounded
 * by the gateway's intake, not by parsing; memory flat in the file's size.
 */
async function measureImportStage(
  infra: Infrastructure,
  apps: RunningApps,
  gatewayIntake: Figure,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  const endpoint = agencyEndpoints(infra, apps).find((candidate) => candidate.agency === 'social-care')!;
  const timeoutMs = stageTimeoutMs(infra.options);
  for (const fixture of IMPORT_FIXTURES) {
    say(
      `import.${fixture.figure}: ${IMPORT_CHILDREN} and ${IMPORT_SMALL_CHILDREN} synthetic children through npm run import`,
    );
    const parse = await measureParse(fixture, IMPORT_CHILDREN, timeoutMs);
    const large = await measureImport(fixture, IMPORT_CHILDREN, endpoint.url, endpoint.key, timeoutMs);
    const small = await measureImport(fixture, IMPORT_SMALL_CHILDREN, endpoint.url, endpoint.key, timeoutMs);
    say(
      `  ${Math.round(large.childrenPerSecond)} children/s, ${Math.round(large.eventsPerSecond)} events/s ` +
        `(${large.events} events, ${(large.bytes / 1e6).toFixed(1)} MB in ${seconds(large.elapsedMs)}); parse alone ` +
        `${Math.round(parse.eventsPerSecond)} events/s; peak RSS ${large.peakRssMb} MiB (${IMPORT_SMALL_CHILDREN} children: ${small.peakRssMb} MiB)`,
    );
    figures.push(
      {
        name: `import.${fixture.figure}.children_per_s`,
        value: large.childrenPerSecond,
        unit: 'children/s',
        ratio: large.eventsPerSecond / gatewayIntake.value,
        note:
          `npm run import -- ${fixture.cliFormat} of ${large.children} synthetic children (${large.events} events, ` +
          `${(large.bytes / 1e6).toFixed(1)} MB), CLI start to summary, through POST /v1/events/batch of the social-care ` +
          'service to Kafka while the recorder and read models run; ratio = its events/s / gateway.batch_intake events/s ' +
          '(three agencies at once) of this run',
      },
      {
        name: `import.${fixture.figure}.events_per_s`,
        value: large.eventsPerSecond,
        unit: 'events/s',
        note: `as import.${fixture.figure}.children_per_s`,
      },
      {
        name: `import.${fixture.figure}.parse_events_per_s`,
        value: parse.eventsPerSecond,
        unit: 'events/s',
        ratio: large.eventsPerSecond / parse.eventsPerSecond,
        note: 'the importer alone on the same file in the bench process, events dropped: ratio = import events/s / this (well below 1: parsing is not the bound)',
      },
      {
        name: `import.${fixture.figure}.peak_rss_mb`,
        value: large.peakRssMb,
        unit: 'MiB',
        ratio: large.peakRssMb / small.peakRssMb,
        note: `peak RSS of the import process (getrusage maxrss) for ${IMPORT_CHILDREN} children; ratio = it / the same for ${IMPORT_SMALL_CHILDREN} children (${small.peakRssMb} MiB): near 1 when memory does not grow with the file`,
      },
    );
  }
  return figures;
}

function peakRssFigures(apps: RunningApps): Figure[] {
  return APP_NAMES.map((name) => ({
    name: `rss_peak_mb.${name}`,
    value: apps.get(name).peakRssMb(),
    unit: 'MiB',
    note: 'VmHWM of the app child process over the whole run, read from /proc/<pid>/status before stopping it',
  }));
}

/**
 * The scale stage on a database of its own (`…_scale`, dropped at the end unless
 * BENCH_SCALE_KEEP=1), the projection app started on it once the store is built. Rebuild rates
 * are given as ratios to this run's raw COPY ceiling, as issue 16 asks of every read model.
 */
async function runScaleStage(infra: Infrastructure, copyCeiling: Figure): Promise<Figure[]> {
  const { options } = infra;
  if (!infra.oidc) throw new Error('the scale stage needs its OpenID provider');
  const ownerUrl = benchStoreDatabaseUrl(options, 'scale');
  const appUrl = benchAppUrl(ownerUrl, options.config.DATABASE_URL);
  await createBenchDatabase(ownerUrl, appUrl);
  if (options.scaleKeepDatabase)
    say(`scale: keeping ${new URL(ownerUrl).pathname.slice(1)} (BENCH_SCALE_KEEP=1)`);
  else infra.teardown.add('drop the scale database', () => dropBenchDatabase(ownerUrl));
  const pool = createPool(ownerUrl, { max: 4 });
  infra.teardown.add('close the scale pool', () => pool.end());
  const env = {
    ...appEnvironment(infra, benchTopicPrefix(options, 'scale')),
    DATABASE_URL: appUrl,
    DATABASE_OWNER_URL: ownerUrl,
    // The stage times lookups one after another; the per-user limit (60 a minute) is not what it measures.
    RATE_LIMIT_LOOKUP_PER_MINUTE: '100000',
  };
  const apps = new RunningApps(infra, env);
  // About 63 events a child; the rebuild is given 15 ms an event (the identity linker ran at about
  // 150 events/s on a loaded 2-core machine); scripts/bench.mjs bounds the whole run at 8 hours.
  const rebuildTimeoutMs = 60_000 + options.scaleChildren * 63 * 15;
  const { figures } = await measureScaleStage({
    ownerUrl,
    pool,
    children: options.scaleChildren,
    analysisRepetitions: options.scaleQueryRepetitions,
    analysisChildren: options.scaleAnalysisChildren,
    projectionName: PROJECTION_NAME,
    startProjection: () => apps.start('projection'),
    reader: readerOf(infra.oidc),
    rebuildTimeoutMs,
    say,
  });
  return figures.map((figure) =>
    figure.name.endsWith('.rebuild.events_per_s')
      ? {
          ...figure,
          ceiling_name: copyCeiling.name,
          ratio: figure.value / copyCeiling.value,
          goal_ratio: 0.3,
        }
      : figure,
  );
}

// ---------------------------------------------------------------------------------------------

function fleetContext(infra: Infrastructure): FleetContext {
  const credentials = publisherCredentials(infra.options.config);
  return {
    options: infra.options,
    admin: infra.admin,
    teardown: infra.teardown,
    say,
    appEnvironment: (topicPrefix, databaseUrl, recorderGroup) =>
      appEnvironment(infra, topicPrefix, databaseUrl, recorderGroup),
    grantAppAccess,
    publisherKey: (agency) => {
      const credential = credentials.find((entry) => entry.agency === agency);
      if (!credential) throw new Error(`PUBLISHER_KEYS has no key for ${agency}`);
      return credential.key;
    },
  };
}

function figureNamed(figures: readonly Figure[], name: string): Figure {
  const figure = figures.find((candidate) => candidate.name === name);
  if (!figure) throw new Error(`no figure ${name}`);
  return figure;
}

async function runBench(options: BenchOptions, teardown: Teardown): Promise<BenchReport> {
  const loadAtStart = os.loadavg();
  say(`run ${options.runId}: generating ${options.eventCount} synthetic events`);
  const cohort = generateBenchCohort(options.eventCount);
  const eventSize = meanJsonBytes(cohort.events);
  say(`  mean JSON size ${eventSize.toFixed(0)} bytes`);

  const rows = rawRowsOf(cohort.events, (event) => `${event.agency}.events.v1`);
  const metadataSize = rows.reduce((sum, row) => sum + Buffer.byteLength(row.metadata), 0) / rows.length;
  say(
    `  stages: ${options.stages.join(', ')}; lineage metadata ${metadataSize.toFixed(0)} bytes (mean) beside each event`,
  );

  const infra = await openInfrastructure(options, teardown);
  const ceilingGroups: readonly StageGroup[] = ['store', 'apps', 'scale'];
  const needsCeilings = ceilingGroups.some((group) => options.stages.includes(group));
  const figures: Figure[] = needsCeilings ? await measureCeilings(infra, cohort, rows) : [];
  const batchSizes: Record<string, number | readonly number[]> = {};

  // Before any app starts: the store stages want the machine to themselves, as the ceilings do.
  if (options.stages.includes('store')) {
    const copyCeiling = figureNamed(figures, 'postgres.raw_copy.events_per_s');
    const store = await measureStoreStages(infra, cohort, rows, copyCeiling);
    figures.push(...store.figures);
    Object.assign(batchSizes, {
      postgres_copy: cohort.events.length,
      event_store_append_batch_tried: options.appendBatchSizes,
      event_store_append_batch_best: store.appendBatchSize,
      event_store_subscription: options.subscriptionBatchSize,
      postgres_select: options.subscriptionBatchSize,
      single_append_writers: options.singleAppendWriters,
      single_append_events: options.singleAppendEvents,
    });
  }

  if (options.stages.includes('apps')) {
    const copyCeiling = figureNamed(figures, 'postgres.raw_copy.events_per_s');
    const kafkaCeiling = figureNamed(figures, 'kafka.raw.events_per_s');
    const postgresCeiling = figureNamed(figures, 'postgres.raw_insert.events_per_s');
    const storeCeiling = kafkaCeiling.value <= copyCeiling.value ? kafkaCeiling : copyCeiling;

    const appsEnvironment = appEnvironment(infra, benchTopicPrefix(options, 'apps'));
    grantAppAccess(appsEnvironment);
    const apps = new RunningApps(infra, appsEnvironment);
    figures.push(await measureGatewayStage(infra, apps, cohort, kafkaCeiling));
    figures.push(await measureRecorderStage(infra, apps, cohort, storeCeiling));
    figures.push(...(await measureProjectionStage(infra, apps, cohort.events.length, postgresCeiling)));
    figures.push(...(await measureRebuildStage(infra, copyCeiling)));
    figures.push(
      ...(await measureLatencyStage(infra, apps, cohort, {
        p50: figureNamed(figures, 'kafka.raw.latency_p50_ms'),
        p99: figureNamed(figures, 'kafka.raw.latency_p99_ms'),
      })),
    );
    figures.push(...(await measureOutcomeQueryStage(infra, apps)));
    figures.push(
      ...(await measureImportStage(infra, apps, figureNamed(figures, 'gateway.batch_intake.events_per_s'))),
    );
    figures.push(...peakRssFigures(apps));
    Object.assign(batchSizes, {
      kafka_send_batch: options.batchSize,
      postgres_insert: options.batchSize,
      gateway_post: options.batchSize,
    });
  }

  if (options.stages.includes('scale')) {
    figures.push(...(await runScaleStage(infra, figureNamed(figures, 'postgres.raw_copy.events_per_s'))));
  }
  // Past one machine and sustained load (issue 16): run only when named, each with its own apps.
  if (options.stages.includes('scaleout')) {
    figures.push(...(await measureScaleout(fleetContext(infra), cohort.events)));
    batchSizes.gateway_post = options.batchSize;
  }
  if (options.stages.includes('soak')) figures.push(...(await measureSoak(fleetContext(infra))));

  return {
    date: new Date().toISOString(),
    commit: gitCommit(),
    stages: options.stages,
    event_count: cohort.events.length,
    event_size_bytes: Math.round(eventSize),
    metadata_size_bytes: Math.round(metadataSize),
    batch_sizes: batchSizes,
    machine: {
      cpus: os.cpus().length,
      totalmem: os.totalmem(),
      load_average: { start: loadAtStart, end: os.loadavg() },
    },
    figures,
  };
}

async function main(): Promise<number> {
  const options = loadBenchOptions();
  const teardown = new Teardown();
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: cleaning up`);
    void teardown.runAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const started = Date.now();
  let report: BenchReport | undefined;
  try {
    report = await runBench(options, teardown);
  } catch (error) {
    say(`FAILED after ${seconds(Date.now() - started)}: ${describeError(error)}`);
    const cause = (error as { cause?: unknown }).cause;
    if (cause !== undefined) say(`  cause: ${describeError(cause)}`);
    say('cleaning up');
  }
  const cleanupFailures = await teardown.runAll();
  for (const message of cleanupFailures) say(`cleanup failed: ${message}`);
  if (report === undefined) return 1;

  // Only a full run is the project's result; a subset goes beside the apps' logs (not committed).
  const fullRun =
    report.stages.length === ALL_STAGE_GROUPS.length &&
    ALL_STAGE_GROUPS.every((group) => report.stages.includes(group));
  const file = fullRun
    ? join(projectRoot(), 'bench', 'results', 'latest.json')
    : join(projectRoot(), 'bench', 'results', 'logs', `latest-${report.stages.join('-')}.json`);
  writeReport(file, report);
  process.stdout.write(`\n${formatTable(report.figures)}\n\n`);
  const load = (values: readonly number[]) => values.map((value) => value.toFixed(2)).join(' ');
  const batches = Object.entries(report.batch_sizes)
    .map(([name, size]) => `${name} ${Array.isArray(size) ? size.join('/') : String(size)}`)
    .join(', ');
  say(
    `${report.event_count} events of ${report.event_size_bytes} bytes (mean; metadata ${report.metadata_size_bytes} ` +
      `bytes) in ${seconds(Date.now() - started)}; batch sizes: ${batches}; ` +
      `load average ${load(report.machine.load_average.start)} at the start, ${load(report.machine.load_average.end)} ` +
      `at the end (${report.machine.cpus} cpus); written to ${file}`,
  );
  return cleanupFailures.length > 0 ? 1 : 0;
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`FAILED: ${describeError(error)}`);
    process.exit(1);
  },
);
