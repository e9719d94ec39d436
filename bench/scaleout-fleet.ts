import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import type { Pool } from 'pg';
import type { Agency } from '@throughline/contracts';
import { AGENCIES } from '@throughline/platform';
import { projectRoot, startApp, type AppName, type AppProcess } from './app-process';
import type { AgencyEndpoint } from './gateway-intake';
import type { BenchOptions } from './options';
import type { Teardown } from './teardown';

/**
 * What the scale-out and soak stages need from the run (bench/run.ts builds it): the apps'
 * environment for a topic prefix and a database of the stage's own, the Kafka grant for it,
 * and the publisher keys. Both stages start their apps themselves (several recorders at once,
 * or one killed and started again), so they do not go through the run's one-of-each registry.
 */
export interface FleetContext {
  readonly options: BenchOptions;
  readonly admin: Admin;
  readonly teardown: Teardown;
  readonly say: (message: string) => void;
  /** The apps' variables for a topic prefix, a database (owner URL) and a recorder group. */
  appEnvironment(topicPrefix: string, databaseUrl: string, recorderGroup: string): Record<string, string>;
  /** Creates the prefix's topics (KAFKA_PARTITIONS of the environment) and the apps' ACLs for its group. */
  grantAppAccess(env: Record<string, string>): void;
  publisherKey(agency: Agency): string;
}

const APP_START_TIMEOUT_MS = 60_000;
/** Every app answers here once it has started (see bench/run.ts). */
const READINESS_PATH = '/health/live';

/** Starts one app process with its log in results/logs/<folder>/; stopped at teardown whatever happens. */
export async function startFleetApp(
  context: FleetContext,
  name: AppName,
  env: Record<string, string>,
  folder: string,
  timeoutMs = APP_START_TIMEOUT_MS,
): Promise<AppProcess> {
  const app = await startApp(
    {
      name,
      env,
      readinessPath: READINESS_PATH,
      timeoutMs,
      logDirectory: join(projectRoot(), 'bench', 'results', 'logs', folder),
    },
    context.options.config.HOST,
  );
  context.teardown.add(`stop ${name} (${folder})`, () => app.stop());
  context.say(`  ${name} ready at ${app.url} (pid ${app.pid}, log ${app.logFile})`);
  return app;
}

export async function startAgencies(
  context: FleetContext,
  env: Record<string, string>,
  folder: string,
): Promise<{ readonly apps: AppProcess[]; readonly endpoints: AgencyEndpoint[] }> {
  const apps = await Promise.all(AGENCIES.map((agency) => startFleetApp(context, agency, env, folder)));
  const endpoints = AGENCIES.map((agency, index) => ({
    agency,
    url: apps[index].url,
    key: context.publisherKey(agency),
  }));
  return { apps, endpoints };
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * Pids of this process's children running one app (dist/apps/<name>/main.js): known from the
 * spawn, before the app answers its readiness check.
 */
export function childAppPids(name: AppName): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== process.pid) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (command.includes(`dist/apps/${name}/main.js`)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The machine's busy and total CPU time (all cores, seconds) from /proc/stat. */
export function machineCpu(): { readonly busy: number; readonly total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  const idle = values[3] + (values[4] ?? 0);
  return { busy: (total - idle) / CLOCK_TICKS_PER_SECOND, total: total / CLOCK_TICKS_PER_SECOND };
}

/** PostgreSQL backends connected to one database (pid, state, wait event), as the server sees them. */
export async function backendsOf(
  pool: Pool,
  database: string,
): Promise<{ readonly pid: number; readonly state: string | null; readonly wait: string | null }[]> {
  const result = await pool.query<{ pid: number; state: string | null; wait: string | null }>(
    `SELECT pid, state, wait_event_type || ':' || wait_event AS wait
       FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
    [database],
  );
  return result.rows;
}

/** Committed transactions of one database so far (pg_stat_database). */
export async function commitsOf(pool: Pool, database: string): Promise<number> {
  const result = await pool.query<{ commits: string }>(
    'SELECT xact_commit AS commits FROM pg_stat_database WHERE datname = $1',
    [database],
  );
  return Number(result.rows[0]?.commits ?? 0);
}

/** Sum over the agency topics of (high watermark − the group's committed offset): messages not yet recorded. */
export async function consumerLag(admin: Admin, groupId: string, topics: readonly string[]): Promise<number> {
  const [committed, ends] = await Promise.all([
    admin.fetchOffsets({ groupId, topics: [...topics] }),
    Promise.all(topics.map((topic) => admin.fetchTopicOffsets(topic))),
  ]);
  let lag = 0;
  topics.forEach((topic, index) => {
    const offsets = committed.find((entry) => entry.topic === topic)?.partitions ?? [];
    for (const end of ends[index]) {
      const high = Number(end.high);
      const low = Number(end.low);
      const at = Number(offsets.find((entry) => entry.partition === end.partition)?.offset ?? -1);
      lag += high - (at < 0 ? low : at);
    }
  });
  return lag;
}

export function databaseNameOf(url: string): string {
  return new URL(url).pathname.slice(1);
}
