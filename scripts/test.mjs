#!/usr/bin/env node
// `npm test`: the three jest tiers in order against a real Kafka broker, then one summary line.
//
//   npm test                       unit, int, e2e
//   npm test -- unit int           only those tiers
//   npm test -- int -- libs/x      extra arguments after a second `--` go to jest
//
// The last line printed is always `N passed, N failed` (CI reads it). A tier whose suite could not
// run counts as at least one failure, so a crash can never look like success.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brokerLease } from './broker-lease.mjs';
import { buildPage } from './build-page.mjs';
import { startOidcProvider } from '../infra/oidc.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Tests run the apps with development keys and settings (refused in production mode).
process.env.THROUGHLINE_MODE ??= 'development';
const RESULTS_DIR = path.join(ROOT, '.test-results');
const JEST_BIN = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

/** Tier name -> extra jest arguments. Tiers with real infrastructure run one file at a time. */
const TIERS = { unit: [], int: ['--runInBand'], e2e: ['--runInBand'] };
const TIERS_NEEDING_KAFKA = new Set(['int', 'e2e']);
/** How long jest may linger after writing its report before it is ended (ms). */
const EXIT_GRACE_MS = 15_000;

function parseArguments(argv) {
  const separator = argv.indexOf('--');
  const names = separator === -1 ? argv : argv.slice(0, separator);
  const jestArgs = separator === -1 ? [] : argv.slice(separator + 1);
  const unknown = names.filter((name) => !(name in TIERS));
  if (unknown.length > 0) {
    throw new Error(
      `unknown tier(s) ${unknown.join(', ')}; use any of ${Object.keys(TIERS).join(', ')} ` +
        '(and put jest arguments after `--`)',
    );
  }
  const tiers = Object.keys(TIERS).filter((tier) => names.length === 0 || names.includes(tier));
  return { tiers, jestArgs };
}

const lease = brokerLease('test');

function runJest(tier, jestArgs, env) {
  const outputFile = path.join(RESULTS_DIR, `${tier}.json`);
  fs.rmSync(outputFile, { force: true }); // never read a previous run's result
  const args = [
    JEST_BIN,
    '--selectProjects',
    tier,
    ...TIERS[tier],
    '--passWithNoTests',
    '--json',
    '--outputFile',
    outputFile,
    ...jestArgs,
  ];
  process.stderr.write(`\n[test] ${tier}: jest ${args.slice(1).join(' ')}\n`);
  const started = Date.now();
  return new Promise((resolve) => {
    const jest = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'inherit' });
    lease.child = jest;
    // A leaked handle (an undisconnected consumer, an unended pool) must not hang CI: once the report
    // is written the results are final, so a jest that lingers is ended and the leak is reported.
    let lingered = false;
    const watchdog = setInterval(() => {
      if (!fs.existsSync(outputFile)) return;
      clearInterval(watchdog);
      const grace = setTimeout(() => {
        lingered = true;
        process.stderr.write(
          `[test] ${tier}: jest did not exit ${EXIT_GRACE_MS} ms after its report; ending it\n`,
        );
        jest.kill('SIGTERM');
      }, EXIT_GRACE_MS);
      jest.once('exit', () => clearTimeout(grace));
    }, 500);
    const finish = (exit) => {
      clearInterval(watchdog);
      lease.child = null;
      const result = summarise(tier, outputFile, lingered ? { code: 0 } : exit, started);
      if (lingered) result.note += ' (open handles kept jest alive; run with --detectOpenHandles)';
      resolve(result);
    };
    jest.on('error', (error) => finish({ code: null, error }));
    jest.on('exit', (code, signal) => finish({ code, signal }));
  });
}

function summarise(tier, outputFile, exit, started) {
  const seconds = (Date.now() - started) / 1000;
  let report = null;
  try {
    report = JSON.parse(fs.readFileSync(outputFile, 'utf8'));
  } catch {
    // jest died before writing its report (bad config, crash, signal)
  }
  const passed = report?.numPassedTests ?? 0;
  const skipped = (report?.numPendingTests ?? 0) + (report?.numTodoTests ?? 0);
  let failed = (report?.numFailedTests ?? 0) + (report?.numRuntimeErrorTestSuites ?? 0);
  const exitedBadly = exit.code !== 0;
  if (failed === 0 && (exitedBadly || report === null || report.success === false)) failed = 1;
  const suites = report?.numTotalTestSuites ?? 0;
  let note = '';
  if (report === null)
    note = ` (no report: jest ${exit.error ? exit.error.message : `exited ${exit.code ?? exit.signal}`})`;
  else if (report.numRuntimeErrorTestSuites > 0)
    note = ` (${report.numRuntimeErrorTestSuites} suite(s) failed to run)`;
  // Skipped tests are named in the summary, with the reason their titles give: never silent.
  const skippedTests = (report?.testResults ?? []).flatMap((suite) =>
    (suite.assertionResults ?? [])
      .filter((test) => test.status === 'pending' || test.status === 'todo')
      .map((test) => test.fullName ?? test.title),
  );
  return { tier, passed, failed, skipped, skippedTests, suites, seconds, note };
}

async function main() {
  const { tiers, jestArgs } = parseArguments(process.argv.slice(2));
  lease.handleSignals();
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  // The projection serves the built page: build it from the current source, never test a stale one.
  await buildPage();

  const results = [];
  const env = { ...process.env };
  let brokerError = null;
  if (tiers.some((tier) => TIERS_NEEDING_KAFKA.has(tier))) {
    try {
      const broker = await lease.ensure();
      env.KAFKA_BROKERS = broker.brokers.join(',');
    } catch (error) {
      brokerError = error;
      process.stderr.write(`[test] no Kafka broker: ${error.message}\n`);
    }
  }

  // A local OpenID provider of this run's own, on a free port (never the one `npm start` serves on
  // OIDC_PORT, which may come and go): the e2e suite signs in through it; int suites start their own.
  let oidc = null;
  if (tiers.some((tier) => TIERS_NEEDING_KAFKA.has(tier))) {
    try {
      oidc = await startOidcProvider({ port: 0, log: (line) => process.stderr.write(`[oidc] ${line}\n`) });
      env.OIDC_ISSUER = oidc.issuer;
    } catch (error) {
      process.stderr.write(`[test] no OpenID provider: ${error.message}\n`);
    }
  }

  try {
    for (const tier of tiers) {
      if (lease.stopping) break;
      if (brokerError && TIERS_NEEDING_KAFKA.has(tier)) {
        results.push({
          tier,
          passed: 0,
          failed: 1,
          suites: 0,
          seconds: 0,
          note: ' (not run: no Kafka broker)',
        });
        continue;
      }
      results.push(await runJest(tier, jestArgs, env));
    }
  } finally {
    await oidc?.close();
    await lease.stopIfOurs();
  }
  if (lease.stopping) return new Promise(() => {}); // the signal handler exits once the broker is stopped

  process.stdout.write('\n');
  for (const r of results) {
    process.stdout.write(
      `${r.tier.padEnd(5)} ${r.passed} passed, ${r.failed} failed, ${r.skipped ?? 0} skipped, ${r.suites} suites, ${r.seconds.toFixed(1)} s${r.note}\n`,
    );
    for (const name of r.skippedTests ?? []) process.stdout.write(`      skipped: ${name}\n`);
  }
  const passed = results.reduce((sum, r) => sum + r.passed, 0);
  const failed = results.reduce((sum, r) => sum + r.failed, 0);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error) => {
    await lease.stopIfOurs();
    process.stderr.write(`[test] ${error.message}\n`);
    process.stdout.write('0 passed, 1 failed\n');
    process.exit(1);
  },
);
