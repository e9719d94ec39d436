import { setTimeout as delay } from 'node:timers/promises';
import { AGENCIES, createPool, topicNames } from '@throughline/platform';
import type { Pool } from 'pg';
import type { AppProcess } from './app-process';
import { pollUntil } from './deadline';
import { benchAdminUrl, benchAppUrl, createBenchDatabase, dropBenchDatabase } from './event-store-stages';
import { measureGatewayIntake } from './gateway-intake';
import { benchStoreDatabaseUrl, benchTopicPrefix, stageTimeoutMs } from './options';
import { splitByAgency, type BenchEvent } from './payloads';
import { storedEventCount, storeHeadPosition } from './progress';
import type { Figure } from './report';
import {
  backendsOf,
  commitsOf,
  cpuSeconds,
  databaseNameOf,
  machineCpu,
  childAppPids,
  startAgencies,
  startFleetApp,
  type FleetContext,
} from './scaleout-fleet';
import { elapsedMs, perSecond } from './stats';

/**
 * Past one machine, measured on one (issue 16, item 6): the same N events are left once on
 * agency topics of nine partitions each (by the agency services, as in the gateway stage),
 * then drained by one recorder and, separately, by three recorders in one consumer group,
 * each on a fresh database and a fresh group. Besides the rate, the stage records what each
 * drain cost: CPU of every recorder process and of the PostgreSQL backends serving it, the
 * whole machine's CPU, commits per second, and how often a backend was seen waiting on the
 * store's append lock (pg_stat_activity, sampled every 50 ms).
 */

export const SCALEOUT_PARTITIONS = 9;
export const SCALEOUT_INSTANCES = [1, 3] as const;
const SAMPLE_MS = 50;

export interface ScaleoutDrain {
  readonly instances: number;
  /** Events after the group was stable (every instance holding partitions) to the last one stored. */
  readonly eventsPerSecond: number;
  /** First stored event seen to the last: the group's joins and rebalances included. */
  readonly overallEventsPerSecond: number;
  readonly stableAfterMs: number;
  readonly windowMs: number;
  /** CPU cores used over the window by each recorder process, by the database's backends, by the whole machine. */
  readonly recorderCores: readonly number[];
  readonly postgresCores: number;
  readonly machineBusyShare: number;
  readonly commitsPerSecond: number;
  /** Share of sampled backends that were running (active) and that were waiting on the append lock (advisory). */
  readonly activeBackends: number;
  readonly lockWaitingBackends: number;
}

async function groupIsStable(context: FleetContext, groupId: string, members: number): Promise<boolean> {
  const { groups } = await context.admin.describeGroups([groupId]);
  const group = groups[0];
  return group?.state === 'Stable' && group.members.length === members;
}

/** n recorders in one group drain the topics into an empty store; watched from outside. */
async function drain(
  context: FleetContext,
  instances: number,
  env: Record<string, string>,
  databaseUrl: string,
  total: number,
): Promise<ScaleoutDrain> {
  const { options } = context;
  const database = databaseNameOf(databaseUrl);
  const groupId = env.RECORDER_GROUP_ID;
  const pool: Pool = createPool(databaseUrl, { max: 2 });
  // The recorders' backends as the admin sees them: the owner role is shown other roles'
  // sessions without their state or wait event (that needs pg_read_all_stats).
  const monitor: Pool = createPool(benchAdminUrl(databaseUrl), { max: 1 });
  const recorders: AppProcess[] = [];
  /** The recorders' pids, read from /proc when the group is stable (they may not answer HTTP yet). */
  const pids: number[] = [];
  try {
    const started = process.hrtime.bigint();
    const starting = Array.from({ length: instances }, (_, index) =>
      startFleetApp(context, 'recorder', env, `scaleout-${instances}x-${index + 1}`),
    );
    // Watch from the spawn: the first stored event, the moment the group is stable with every
    // instance, the last stored event; CPU, commits and backends sampled along the way.
    let firstAt: bigint | undefined;
    let stable:
      | {
          at: bigint;
          stored: number;
          cpu: number[];
          pg: Map<number, number>;
          machine: ReturnType<typeof machineCpu>;
          commits: number;
        }
      | undefined;
    let doneAt: bigint | undefined;
    let samples = 0;
    let active = 0;
    let lockWaits = 0;
    const watching = pollUntil(
      async () => {
        const head = await storeHeadPosition(pool).catch(() => 0);
        const at = process.hrtime.bigint();
        if (head > 0 && firstAt === undefined) firstAt = at;
        if (stable === undefined && (await groupIsStable(context, groupId, instances))) {
          pids.push(...childAppPids('recorder'));
          const backends = await backendsOf(monitor, database);
          stable = {
            at: process.hrtime.bigint(),
            stored: await storedEventCount(pool).catch(() => 0),
            cpu: pids.map((pid) => cpuSeconds(pid)),
            pg: new Map(backends.map((backend) => [backend.pid, cpuSeconds(backend.pid)])),
            machine: machineCpu(),
            commits: await commitsOf(pool, database),
          };
        }
        if (stable !== undefined) {
          for (const backend of await backendsOf(monitor, database)) {
            samples++;
            if (backend.state === 'active') active++;
            if (backend.wait === 'Lock:advisory') lockWaits++;
          }
        }
        if (head >= total && (await storedEventCount(pool)) >= total) doneAt = process.hrtime.bigint();
        return doneAt !== undefined;
      },
      { stage: `recorder.scaleout.${instances}x`, timeoutMs: stageTimeoutMs(options), intervalMs: SAMPLE_MS },
    );
    recorders.push(...(await Promise.all(starting)));
    await watching;
    if (firstAt === undefined || doneAt === undefined) throw new Error('no progress observed');
    if (pids.length !== instances)
      throw new Error(`found ${pids.length} recorder processes, expected ${instances}`);
    if (stable === undefined) {
      throw new Error(
        `the ${instances} recorders drained the topics before their group was stable: raise BENCH_EVENTS`,
      );
    }
    const stored = await storedEventCount(pool);
    if (stored !== total) throw new Error(`the store holds ${stored} events, expected ${total}`);
    const windowMs = elapsedMs(stable.at, doneAt);
    const seconds = windowMs / 1000;
    const backendsNow = await backendsOf(monitor, database);
    const postgresSeconds = backendsNow.reduce(
      (sum, backend) => sum + cpuSeconds(backend.pid) - (stable!.pg.get(backend.pid) ?? 0),
      0,
    );
    const machine = machineCpu();
    const drained: ScaleoutDrain = {
      instances,
      eventsPerSecond: perSecond(total - stable.stored, windowMs),
      overallEventsPerSecond: perSecond(total, elapsedMs(firstAt, doneAt)),
      stableAfterMs: elapsedMs(started, stable.at),
      windowMs,
      recorderCores: recorders.map(
        (recorder, index) => (cpuSeconds(recorder.pid) - stable!.cpu[index]) / seconds,
      ),
      postgresCores: postgresSeconds / seconds,
      machineBusyShare: (machine.busy - stable.machine.busy) / (machine.total - stable.machine.total),
      commitsPerSecond: ((await commitsOf(pool, database)) - stable.commits) / seconds,
      activeBackends: samples === 0 ? 0 : active / samples,
      lockWaitingBackends: samples === 0 ? 0 : lockWaits / samples,
    };
    return drained;
  } finally {
    await Promise.all(recorders.map((recorder) => recorder.stop()));
    await pool.end();
    await monitor.end();
    // Let the group's leave settle before the next drain starts on the same broker.
    await delay(1000);
  }
}

function describe(run: ScaleoutDrain): string {
  const cores = run.recorderCores.map((value) => value.toFixed(2)).join(' + ');
  return (
    `${Math.round(run.eventsPerSecond)} events/s once the group was stable (${(run.stableAfterMs / 1000).toFixed(1)} s ` +
    `after spawn; ${Math.round(run.overallEventsPerSecond)} events/s from the first stored event, joins included); ` +
    `recorder CPU ${cores} cores, PostgreSQL backends ${run.postgresCores.toFixed(2)} cores, machine ` +
    `${Math.round(run.machineBusyShare * 100)} % busy; ${Math.round(run.commitsPerSecond)} commits/s; backends active ` +
    `${Math.round(run.activeBackends * 100)} % of samples, waiting on the append lock ${Math.round(run.lockWaitingBackends * 100)} %`
  );
}

export async function measureScaleout(
  context: FleetContext,
  events: readonly BenchEvent[],
): Promise<Figure[]> {
  const { options, say, teardown } = context;
  const prefix = benchTopicPrefix(options, 'scaleout');
  const setups = SCALEOUT_INSTANCES.map((instances) => {
    const databaseUrl = benchStoreDatabaseUrl(options, `scaleout_${instances}x`);
    const env = {
      ...context.appEnvironment(prefix, databaseUrl, `${prefix}recorder-${instances}x`),
      KAFKA_PARTITIONS: String(SCALEOUT_PARTITIONS),
    };
    return { instances, databaseUrl, env };
  });
  for (const setup of setups) {
    await createBenchDatabase(setup.databaseUrl, benchAppUrl(setup.databaseUrl, options.config.DATABASE_URL));
    teardown.add(`drop ${databaseNameOf(setup.databaseUrl)}`, () => dropBenchDatabase(setup.databaseUrl));
    context.grantAppAccess(setup.env);
  }
  const topics = Object.values(topicNames(prefix).agency);
  const metadata = await context.admin.fetchTopicMetadata({ topics });
  for (const topic of metadata.topics) {
    if (topic.partitions.length !== SCALEOUT_PARTITIONS) {
      throw new Error(
        `${topic.name} has ${topic.partitions.length} partitions, expected ${SCALEOUT_PARTITIONS}`,
      );
    }
  }

  say(
    `recorder.scaleout: ${events.length} events onto ${AGENCIES.length} agency topics of ${SCALEOUT_PARTITIONS} partitions through the agency services`,
  );
  const agencies = await startAgencies(context, setups[0].env, 'scaleout-gateway');
  const intake = await measureGatewayIntake(
    agencies.endpoints,
    splitByAgency(events),
    options.batchSize,
    stageTimeoutMs(options),
  );
  say(`  left on the topics at ${Math.round(intake.eventsPerSecond)} events/s`);
  await Promise.all(agencies.apps.map((app) => app.stop()));

  const runs: ScaleoutDrain[] = [];
  for (const setup of setups) {
    say(
      `recorder.scaleout.${setup.instances}x: ${setup.instances} recorder(s) in one group drain ${events.length} events`,
    );
    const run = await drain(context, setup.instances, setup.env, setup.databaseUrl, events.length);
    say(`  ${describe(run)}`);
    runs.push(run);
    await dropBenchDatabase(setup.databaseUrl);
  }
  const [one, three] = runs;
  const note = (run: ScaleoutDrain) =>
    `${run.instances} recorder process(es), one consumer group, ${AGENCIES.length} agency topics × ${SCALEOUT_PARTITIONS} ` +
    `partitions holding the same ${events.length} events (left by the agency services), an empty store; rate from the ` +
    `moment the group was stable with every instance (describeGroups polled every ${SAMPLE_MS} ms) to the last event stored. ` +
    describe(run);
  return [
    {
      name: 'recorder.scaleout.1x.events_per_s',
      value: one.eventsPerSecond,
      unit: 'events/s',
      note: note(one),
    },
    {
      name: 'recorder.scaleout.3x.events_per_s',
      value: three.eventsPerSecond,
      unit: 'events/s',
      ceiling_name: 'recorder.scaleout.1x.events_per_s',
      ratio: three.eventsPerSecond / one.eventsPerSecond,
      note: `${note(three)}. Ratio = 3x / 1x (linear would be 3)`,
    },
    {
      name: 'recorder.scaleout.3x_over_1x',
      value: three.eventsPerSecond / one.eventsPerSecond,
      unit: 'ratio',
      note:
        `linear would be 3; from the first stored event (joins included) ${(three.overallEventsPerSecond / one.overallEventsPerSecond).toFixed(2)}; ` +
        `PostgreSQL backends ${one.postgresCores.toFixed(2)} → ${three.postgresCores.toFixed(2)} cores, machine ` +
        `${Math.round(one.machineBusyShare * 100)} → ${Math.round(three.machineBusyShare * 100)} % busy`,
    },
  ];
}
