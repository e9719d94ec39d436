import { execFile, execFileSync } from 'node:child_process';
import { accessSync, appendFileSync, chownSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A PostgreSQL cluster of one test's own, on a free port, that the test may restart, crash
 * and stop without touching the shared server on 5432. initdb refuses to run as root, so as
 * root every PostgreSQL binary runs as the `postgres` user (runuser) and the cluster's folder
 * is handed to that user; as any other user they run directly.
 */
export interface PrivatePostgres {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>, without a database name. */
  readonly serverUrl: string;
  /** The cluster's folder: data/, server.log and the Unix socket. */
  readonly directory: string;
  /** `pg_ctl restart -m <mode>`: 'fast' ends sessions cleanly; 'immediate' is a crash (recovery on start). */
  restart(mode: ShutdownMode): Promise<void>;
  stop(mode: ShutdownMode): Promise<void>;
  start(): Promise<void>;
  /** Whether the postmaster runs (pg_ctl status). */
  isRunning(): Promise<boolean>;
  /** Stops the cluster (immediate) if it runs and deletes its folder. Idempotent. */
  remove(): Promise<void>;
}

export type ShutdownMode = 'smart' | 'fast' | 'immediate';

export interface PrivatePostgresOptions {
  /** Folder of initdb and pg_ctl. Default POSTGRES_BIN_DIR or /usr/lib/postgresql/15/bin. */
  readonly binDir?: string;
  /** Parent of the cluster's folder. Default the OS temp folder. */
  readonly parentDir?: string;
  /** Seconds pg_ctl waits for a start or stop. Default 60. */
  readonly timeoutSeconds?: number;
}

const DEFAULT_BIN_DIR = '/usr/lib/postgresql/15/bin';
const run = promisify(execFile);

/** A TCP port nothing listens on right now (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

interface RunAs {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
}

/** As root: the `postgres` user, which initdb and postgres accept; otherwise undefined (run as we are). */
function postgresUserIfRoot(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => {
    try {
      return Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    } catch (error) {
      throw new Error(
        'running as root, and initdb refuses root: a `postgres` user is needed to own the private cluster, ' +
          'but `id postgres` failed',
        { cause: error },
      );
    }
  };
  return { user: 'postgres', uid: id('-u'), gid: id('-g') };
}

/** initdb, configure and start a private cluster; remove() it in afterAll. */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const binDir = options.binDir ?? process.env.POSTGRES_BIN_DIR ?? DEFAULT_BIN_DIR;
  for (const binary of ['initdb', 'pg_ctl', 'postgres']) {
    try {
      accessSync(join(binDir, binary), constants.X_OK);
    } catch {
      throw new Error(
        `${join(binDir, binary)} is missing or not executable; install PostgreSQL 15 server binaries ` +
          'or set POSTGRES_BIN_DIR to their folder',
      );
    }
  }
  const timeoutSeconds = options.timeoutSeconds ?? 60;
  const runAs = postgresUserIfRoot();
  const directory = mkdtempSync(join(options.parentDir ?? tmpdir(), 'tl-private-pg-'));
  if (runAs) chownSync(directory, runAs.uid, runAs.gid);
  const dataDir = join(directory, 'data');
  const logFile = join(directory, 'server.log');

  const command = (binary: string, args: readonly string[]): [string, string[]] =>
    runAs
      ? ['runuser', ['-u', runAs.user, '--', join(binDir, binary), ...args]]
      : [join(binDir, binary), [...args]];
  const pgCtl = async (args: readonly string[]): Promise<void> => {
    const [file, argv] = command('pg_ctl', ['-D', dataDir, '-t', String(timeoutSeconds), ...args]);
    try {
      await run(file, argv, { timeout: (timeoutSeconds + 15) * 1000 });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`pg_ctl ${args.join(' ')} failed: ${stdout}${stderr}`.trim(), { cause: error });
    }
  };
  const isRunning = () =>
    pgCtl(['status']).then(
      () => true,
      () => false,
    );

  let removed = false;
  // Should the test process die without afterAll, do not leave a postmaster behind.
  const onExit = () => {
    if (removed) return;
    try {
      const [file, argv] = command('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      execFileSync(file, argv, { stdio: 'ignore', timeout: 20_000 });
    } catch {
      // not running
    }
    rmSync(directory, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const remove = async (): Promise<void> => {
    if (removed) return;
    if (await isRunning()) await pgCtl(['-m', 'immediate', '-w', 'stop']);
    removed = true;
    process.removeListener('exit', onExit);
    rmSync(directory, { recursive: true, force: true });
  };

  try {
    const [initdb, initdbArgs] = command('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    await run(initdb, initdbArgs, { timeout: 120_000 }).catch(
      (error: { stdout?: string; stderr?: string }) => {
        throw new Error(`initdb failed: ${error.stdout ?? ''}${error.stderr ?? ''}`.trim(), { cause: error });
      },
    );
    // A free port can be taken between the probe and the start: try a few.
    let port = 0;
    for (let attempt = 1; ; attempt += 1) {
      port = await freePort();
      appendFileSync(
        join(dataDir, 'postgresql.conf'),
        [
          '',
          '# private test cluster (libs/testing/private-postgres.ts); the last setting wins',
          `port = ${port}`,
          "listen_addresses = '127.0.0.1'",
          `unix_socket_directories = '${directory}'`,
          // Durability against an OS crash is not under test; a process crash loses nothing without fsync.
          'fsync = off',
          'full_page_writes = off',
          '',
        ].join('\n'),
      );
      try {
        await pgCtl(['-l', logFile, '-w', 'start']);
        break;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
    return {
      port,
      serverUrl: `postgres://postgres@127.0.0.1:${port}`,
      directory,
      restart: (mode) => pgCtl(['-l', logFile, '-m', mode, '-w', 'restart']),
      stop: (mode) => pgCtl(['-m', mode, '-w', 'stop']),
      start: () => pgCtl(['-l', logFile, '-w', 'start']),
      isRunning,
      remove,
    };
  } catch (error) {
    await remove().catch(() => undefined);
    throw error;
  }
}
