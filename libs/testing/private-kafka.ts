import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from './private-postgres';

/**
 * A Kafka broker of one test's own (own port, own data dir), started and stopped through
 * infra/kafka.mjs like the shared one, that the test may stop, kill and start again with its
 * data kept. The shared broker on 9092 is never touched.
 */
export interface PrivateKafka {
  /** host:port for KAFKA_BROKERS. */
  readonly brokers: string;
  readonly dataDir: string;
  /** The broker JVM's pid while it runs. */
  readonly pid: number | null;
  /** Starts the broker on the kept data dir and waits until it creates topics; seconds it took. */
  start(): Promise<number>;
  /** A clean stop: SIGTERM (controlled shutdown), SIGKILL if it takes longer than the stop timeout. */
  stop(): Promise<'terminated' | 'killed' | 'not running'>;
  /** SIGKILL of the broker JVM (no shutdown at all), then waits until it is gone. */
  kill(): Promise<void>;
  /** Stops the broker if it runs and deletes its data dir. Idempotent. */
  remove(): Promise<void>;
}

export interface PrivateKafkaOptions {
  /** Milliseconds a start may take. Default 120000. */
  readonly readyTimeoutMs?: number;
  /** Milliseconds SIGTERM is given before SIGKILL. Default 30000. */
  readonly stopTimeoutMs?: number;
}

const LAUNCHER = join(__dirname, '..', '..', 'infra', 'kafka.mjs');
const run = promisify(execFile);

/** Calls ensureBroker/stopBroker of infra/kafka.mjs (an ES module) in a node child process. */
async function callLauncher(
  operation: 'ensureBroker' | 'stopBroker' | 'grantAccess',
  options: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const script = `
    const launcher = await import(${JSON.stringify(pathToFileURL(LAUNCHER).href)});
    const { stop, ...result } = await launcher[process.env.LAUNCHER_OPERATION](JSON.parse(process.env.LAUNCHER_OPTIONS));
    process.stdout.write(JSON.stringify(result));`;
  try {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, LAUNCHER_OPERATION: operation, LAUNCHER_OPTIONS: JSON.stringify(options) },
      timeout: 300_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout) as Record<string, unknown>;
  } catch (error) {
    const { stderr = '' } = error as { stderr?: string };
    throw new Error(`infra/kafka.mjs ${operation} failed: ${stderr.trim()}`, { cause: error });
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port whose successor (the broker's controller port) is free too. */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await freePort();
    if (port < 65534 && (await canListen(port + 1))) return port;
  }
  throw new Error('no two adjacent free ports found for a private Kafka broker');
}

/** Alive and not a zombie (a killed broker is reaped by whoever adopted it). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Creates the topics of config's KAFKA_TOPIC_PREFIX and the ACLs that let the apps' own principals
 * (agency services, recorder) use them and the recorder's group, on config's broker, as
 * infra/kafka.mjs does for the unprefixed topics at start. Call it before starting an app under a
 * test prefix; the test's own clients (component `test`) need no grant on test- prefixes.
 */
export async function grantKafkaAccess(config: {
  readonly KAFKA_BROKERS: string;
  readonly KAFKA_TOPIC_PREFIX: string;
  readonly RECORDER_GROUP_ID: string;
  readonly KAFKA_PARTITIONS: number;
}): Promise<void> {
  await callLauncher('grantAccess', {
    brokers: config.KAFKA_BROKERS,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    recorderGroup: config.RECORDER_GROUP_ID,
    partitions: config.KAFKA_PARTITIONS,
  });
}

/** Picks a port and a data dir under the OS temp folder; call start(). */
export async function createPrivateKafka(options: PrivateKafkaOptions = {}): Promise<PrivateKafka> {
  const port = await freePortPair();
  const dataDir = mkdtempSync(join(tmpdir(), 'tl-private-kafka-'));
  const brokers = `127.0.0.1:${port}`;
  const launcherOptions = {
    brokers,
    dataDir,
    keepData: true,
    readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 30_000,
  };
  let pid: number | null = null;
  let removed = false;

  const stop = async (): Promise<'terminated' | 'killed' | 'not running'> => {
    const result = await callLauncher('stopBroker', launcherOptions);
    pid = null;
    return result.stopped ? (result.how as 'terminated' | 'killed') : 'not running';
  };

  return {
    brokers,
    dataDir,
    get pid() {
      return pid;
    },
    async start() {
      if (removed) throw new Error('the private broker was removed');
      const result = await callLauncher('ensureBroker', launcherOptions);
      pid = typeof result.pid === 'number' ? result.pid : null;
      return typeof result.startupSeconds === 'number' ? result.startupSeconds : 0;
    },
    stop,
    async kill() {
      if (pid === null) throw new Error('the private broker is not running');
      const killed = pid;
      try {
        process.kill(-killed, 'SIGKILL'); // the launcher starts the broker as its own process group
      } catch {
        process.kill(killed, 'SIGKILL');
      }
      const deadline = Date.now() + 30_000;
      while (isAlive(killed)) {
        if (Date.now() > deadline) throw new Error(`broker pid ${killed} survived SIGKILL`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      pid = null;
    },
    async remove() {
      if (removed) return;
      removed = true;
      try {
        await stop();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
