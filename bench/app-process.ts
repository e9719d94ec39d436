import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { StageTimeoutError } from './deadline';

/**
 * The five apps run as child processes from the compiled tree, as in production, so each
 * has its own memory figure (VmHWM: the kernel's record of the process's peak RSS).
 */

export const APP_NAMES = ['health', 'education', 'social-care', 'recorder', 'projection'] as const;
export type AppName = (typeof APP_NAMES)[number];

export const PORT_VARIABLE: Readonly<Record<AppName, string>> = {
  health: 'HEALTH_PORT',
  education: 'EDUCATION_PORT',
  'social-care': 'SOCIAL_CARE_PORT',
  recorder: 'RECORDER_PORT',
  projection: 'PROJECTION_PORT',
};

export interface AppProcess {
  readonly name: AppName;
  readonly pid: number;
  readonly url: string;
  readonly logFile: string;
  /** Peak resident set size so far, in MiB, from /proc/<pid>/status. */
  peakRssMb(): number;
  /** SIGTERM, then SIGKILL if it has not exited within the grace period. */
  stop(): Promise<void>;
}

export interface StartAppOptions {
  readonly name: AppName;
  /** Environment for the app on top of PATH and friends; the port variable is added here. */
  readonly env: Readonly<Record<string, string>>;
  /** A GET that answers 2xx once the app is ready. */
  readonly readinessPath: string;
  readonly timeoutMs: number;
  readonly logDirectory: string;
}

export function projectRoot(start: string = __dirname): string {
  let folder = start;
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`no package.json above ${start}`);
    folder = parent;
  }
  return folder;
}

export async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

/** VmHWM from /proc/<pid>/status in MiB. */
export function readPeakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no VmHWM line`);
  return Number(match[1]) / 1024;
}

function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
  return Promise.race([exited, delay(timeoutMs).then(() => false)]);
}

export async function startApp(options: StartAppOptions, host: string): Promise<AppProcess> {
  const root = projectRoot();
  const port = await freePort(host);
  mkdirSync(options.logDirectory, { recursive: true });
  const logFile = join(options.logDirectory, `${options.name}.log`);
  const log = openSync(logFile, 'w');
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROF] : []),
      '-r',
      './scripts/register-dist.js',
      join('dist', 'apps', options.name, 'main.js'),
    ],
    {
      cwd: root,
      env: { ...process.env, ...options.env, HOST: host, [PORT_VARIABLE[options.name]]: String(port) },
      stdio: ['ignore', log, log],
    },
  );
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${options.name}`);
  const pid = child.pid;
  const url = `http://${host}:${port}`;
  const app: AppProcess = {
    name: options.name,
    pid,
    url,
    logFile,
    peakRssMb: () => readPeakRssMb(pid),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 10_000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5_000);
      }
    },
  };

  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${options.name} exited before it was ready (code ${child.exitCode}, signal ${child.signalCode}); ` +
          `log ${logFile}:\n${logTail(logFile)}`,
      );
    }
    const ready = await fetch(`${url}${options.readinessPath}`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return app;
    if (Date.now() >= deadline) {
      await app.stop();
      throw new StageTimeoutError(`start ${options.name}`, options.timeoutMs, {
        cause: new Error(`log ${logFile}:\n${logTail(logFile)}`),
      });
    }
    await delay(50);
  }
}
