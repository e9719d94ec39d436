#!/usr/bin/env node
// `npm run bench`: build, ensure the Kafka broker, run the compiled benchmark (dist/bench/run.js),
// and stop the broker if this script started it. The benchmark uses a database, topics and consumer
// groups of its own (named per run, removed at the end), so it never touches the demo's data.
//
//   npm run bench                    20,000 events
//   BENCH_EVENTS=5000 npm run bench  a quicker run
//   BENCH_STAGES=store npm run bench the event store stages only (no broker needed; see bench/README.md)
//   BENCH_STAGES=scale npm run bench a store of BENCH_SCALE_CHILDREN (100,000) children, rebuilt and queried (no broker)
//   BENCH_STAGES=scaleout npm run bench  one recorder against three on nine partitions
//   BENCH_STAGES=soak npm run bench      BENCH_SOAK_SECONDS (600) at BENCH_SOAK_RATE with restarts
//
// Exit status: the benchmark's (non-zero when a stage failed or missed its deadline), 1 on a
// build or broker failure, 124 when the whole run overran its hard limit.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brokerLease } from './broker-lease.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The bench runs the apps with development keys and settings (refused in production mode).
process.env.THROUGHLINE_MODE ??= 'development';
/** The benchmark itself bounds each stage; this is the backstop for anything that escapes them (ms). */
const HARD_LIMIT_MS = 15 * 60_000;
const SCALE_HARD_LIMIT_MS = 8 * 60 * 60_000;
/** The soak stage runs for BENCH_SOAK_SECONDS on top of everything else. */
const SOAK_DEFAULT_SECONDS = 600;

const lease = brokerLease('bench');

/** Runs a command with inherited stdio; resolves with its exit code (124 if it overran limitMs). */
function run(command, args, { env = process.env, limitMs } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: 'inherit' });
    lease.child = child;
    let overran = false;
    const timer =
      limitMs === undefined
        ? undefined
        : setTimeout(() => {
            overran = true;
            process.stderr.write(`[bench] ${args.join(' ')} overran ${limitMs} ms; ending it\n`);
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
          }, limitMs);
    const finish = (code) => {
      clearTimeout(timer);
      lease.child = null;
      resolve(overran ? 124 : code);
    };
    child.on('error', (error) => {
      process.stderr.write(`[bench] cannot run ${command}: ${error.message}\n`);
      finish(1);
    });
    child.on('exit', (code, signal) => finish(code ?? (signal ? 1 : 0)));
  });
}

async function main() {
  lease.handleSignals();

  process.stderr.write('[bench] building (npm run build)\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const built = await run(npm, ['run', '--silent', 'build']);
  if (built !== 0) {
    process.stderr.write(`[bench] build failed (exit ${built})\n`);
    return 1;
  }

  // Only the apps, scaleout and soak stages use Kafka (bench/options.ts parses BENCH_STAGES and refuses a bad value).
  const stages = (process.env.BENCH_STAGES ?? 'all').split(',').map((stage) => stage.trim());
  const needsKafka = stages.some((stage) => ['all', '', 'apps', 'scaleout', 'soak'].includes(stage));
  let broker;
  try {
    broker = needsKafka ? await lease.ensure() : null;
  } catch (error) {
    process.stderr.write(`[bench] no Kafka broker: ${error.message}\n`);
    return 1;
  }
  try {
    const env = broker ? { ...process.env, KAFKA_BROKERS: broker.brokers.join(',') } : process.env;
    const soakMs = stages.includes('soak')
      ? Number(process.env.BENCH_SOAK_SECONDS ?? SOAK_DEFAULT_SECONDS) * 1000
      : 0;
    const code = await run(
      process.execPath,
      [
        // BENCH_SELF_PROF=<dir>: a V8 CPU profile of the bench process itself (BENCH_PROF is the apps').
        ...(process.env.BENCH_SELF_PROF
          ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_SELF_PROF]
          : []),
        '-r',
        './scripts/register-dist.js',
        'dist/bench/run.js',
      ],
      {
        env,
        // The scale stage bounds its own rebuild (bench/run.ts); 100,000 children take hours on a busy machine.
        limitMs: stages.includes('scale')
          ? SCALE_HARD_LIMIT_MS
          : HARD_LIMIT_MS + (Number.isFinite(soakMs) ? soakMs : 0),
      },
    );
    if (code !== 0) process.stderr.write(`[bench] the benchmark failed (exit ${code})\n`);
    return code;
  } finally {
    await lease.stopIfOurs();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`[bench] ${error.stack ?? error}\n`);
    void lease.stopIfOurs().finally(() => process.exit(1));
  },
);
