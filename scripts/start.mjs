#!/usr/bin/env node
// `npm start`: build, ensure a Kafka broker, run the five apps, feed the synthetic demo cohort,
// and print where to look. Ctrl-C stops every app (and the broker, if this script started it).
//
//   node scripts/start.mjs [--no-feed]
//   DEMO_CHILDREN=5000 npm start   # a larger cohort (default 240): most analysts' measures mostly unsuppressed
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ensureBroker } from '../infra/kafka.mjs';
import { ensureOidcProvider } from '../infra/oidc.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The local demo runs with development keys, an unsalted child key and plain HTTP on loopback:
// all refused at start unless THROUGHLINE_MODE=development (libs/platform/config.ts).
process.env.THROUGHLINE_MODE ??= 'development';
// The demo access policy (roles, purposes, the synthetic partnership's data-sharing agreements),
// loaded as version 1 when the database holds none; replace it with PUT /v1/governance/policy.
process.env.ACCESS_POLICY_FILE ??= path.join(ROOT, 'infra', 'access-policy.demo.json');
// The demo outcome frameworks (decision 015), loaded as version 1 likewise; PUT /v1/outcomes/frameworks.
process.env.OUTCOME_FRAMEWORKS_FILE ??= path.join(ROOT, 'infra', 'outcome-frameworks.json');
const require = createRequire(import.meta.url);

/** Deadlines, in milliseconds. */
const HEALTH_DEADLINE_MS = 120_000;
const APP_STOP_DEADLINE_MS = 20_000;
const HEALTH_POLL_MS = 300;
const TAIL_LINES = 40;

const APPS = [
  { name: 'projection', portKey: 'PROJECTION_PORT', agency: false },
  { name: 'health', portKey: 'HEALTH_PORT', agency: true },
  { name: 'education', portKey: 'EDUCATION_PORT', agency: true },
  { name: 'social-care', portKey: 'SOCIAL_CARE_PORT', agency: true },
  { name: 'recorder', portKey: 'RECORDER_PORT', agency: false },
];

const COLOURS = {
  projection: 35,
  health: 32,
  education: 34,
  'social-care': 33,
  recorder: 36,
  oidc: 32,
  demo: 37,
  start: 1,
};
const useColour = process.stdout.isTTY && !process.env.NO_COLOR;

function say(source, line) {
  const label = `[${source}]`.padEnd(14);
  const tag = useColour ? `\x1b[${COLOURS[source] ?? 0}m${label}\x1b[0m` : label;
  process.stdout.write(`${tag} ${line}\n`);
}

class Fatal extends Error {}

// ---------------------------------------------------------------------------------------------
// Child processes

/** Running children by name; each keeps its last lines of output for the crash report. */
const children = new Map();
let stopping = false;
let brokerLaunch = null;
let oidcLaunch = null;
let failCurrentStep = () => {};

function runChild(name, command, args, { onLine } = {}) {
  const child = spawn(command, args, {
    cwd: ROOT,
    // The apps' stdout is this pipe, not a terminal: on a terminal ask them for readable lines
    // (LOG_FORMAT=pretty), else they log JSON. Colour codes stay out of files and pipes.
    env: {
      ...(process.stdout.isTTY ? { LOG_FORMAT: 'pretty' } : {}),
      ...process.env,
      ...(useColour ? { FORCE_COLOR: '1' } : { NO_COLOR: '1' }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a Ctrl-C reaches only this script, which then stops the apps in order.
    detached: true,
  });
  const entry = { name, child, tail: [], exited: null };
  children.set(name, entry);
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      entry.tail.push(line);
      if (entry.tail.length > TAIL_LINES) entry.tail.shift();
      if (!onLine || onLine(line) !== false) say(name, line);
    });
  }
  entry.done = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      entry.exited = { code, signal };
      resolve(entry.exited);
    });
    child.on('error', (error) => {
      entry.exited = { code: null, signal: null, error };
      resolve(entry.exited);
    });
  });
  return entry;
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
}

async function stopChild(entry) {
  if (entry.exited) return;
  signalGroup(entry.child.pid, 'SIGTERM');
  const stopped = await Promise.race([entry.done, delay(APP_STOP_DEADLINE_MS).then(() => null)]);
  if (!stopped) {
    say('start', `${entry.name} did not stop within ${APP_STOP_DEADLINE_MS / 1000} s; killing it`);
    signalGroup(entry.child.pid, 'SIGKILL');
    await entry.done;
  }
}

async function stopEverything() {
  await Promise.all([...children.values()].map((entry) => stopChild(entry)));
  // A broker still starting is waited for, so that one we launched is never left behind.
  const oidc = await oidcLaunch?.catch(() => null);
  if (oidc?.startedHere) {
    say('start', 'stopping the OpenID provider started by npm start');
    await oidc.stop();
  }
  const broker = await brokerLaunch?.catch(() => null);
  if (broker?.startedHere) {
    say('start', 'stopping the Kafka broker started by npm start');
    await broker.stop();
  }
}

/** An app (or the feed) that exits on its own while we are not stopping is fatal. */
function watchForCrash(entry) {
  void entry.done.then((exit) => {
    if (stopping || entry.expectedToExit) return;
    const how = exit.error ? exit.error.message : exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    failCurrentStep(
      new Fatal(
        `${entry.name} exited unexpectedly (${how}). Its last output:\n${entry.tail.map((l) => `  ${l}`).join('\n')}`,
      ),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Steps

/** Runs a step that fails as soon as any app crashes. */
function step(promise) {
  return new Promise((resolve, reject) => {
    failCurrentStep = reject;
    promise.then(resolve, reject);
  });
}

async function build() {
  say('start', 'building (npm run build: tsc and the timeline page -> dist/)');
  // Under `npm start` npm tells us where it lives; otherwise npm is on the PATH.
  const npm = process.env.npm_execpath;
  const entry = npm
    ? runChild('build', process.execPath, [npm, 'run', '--silent', 'build'])
    : runChild('build', 'npm', ['run', '--silent', 'build']);
  const exit = await entry.done;
  children.delete('build');
  if (exit.code !== 0) throw new Fatal(`the build failed (${exit.signal ?? `exit ${exit.code}`})`);
}

async function waitHealthy(entry, url) {
  const deadline = Date.now() + HEALTH_DEADLINE_MS;
  let last = 'no answer yet';
  for (;;) {
    if (entry.exited) return; // watchForCrash reports it
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return;
      last = `${response.status} ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    if (Date.now() > deadline)
      throw new Fatal(
        `${entry.name} did not answer 200 on ${url}/health within ${HEALTH_DEADLINE_MS / 1000} s (last: ${last})`,
      );
    await delay(HEALTH_POLL_MS);
  }
}

async function runFeed() {
  let result = null;
  const entry = runChild(
    'demo',
    process.execPath,
    ['-r', './scripts/register-dist.js', 'dist/scripts/demo-feed.js'],
    {
      onLine: (line) => {
        if (!line.startsWith('@@demo-result ')) return true;
        result = JSON.parse(line.slice('@@demo-result '.length));
        return false;
      },
    },
  );
  entry.expectedToExit = true;
  const exit = await entry.done;
  children.delete('demo');
  if (exit.code !== 0 || !result) {
    throw new Fatal(
      `feeding the demo cohort failed (${exit.signal ?? `exit ${exit.code}`}); see the [demo] lines above`,
    );
  }
  return result;
}

/** How to get a token, once the OpenID provider is up (the demo passwords are generated, never printed). */
let oidcReady = null;
function signInLines() {
  if (!oidcReady) return [];
  return [
    `Sign in: OpenID provider ${oidcReady.issuer}; demo people demo-social-worker, demo-health-visitor, demo-school-dsl,`,
    '  demo-camhs-clinician, demo-supervisor, demo-ig-officer, demo-analyst (their generated passwords and the',
    `  agency systems' client secrets: ${oidcReady.stateFile ?? '<cache>/oidc/local-provider.json'}, mode 0600)`,
    '  TOKEN=$(npm run -s token -- demo-social-worker)        # a person: authorization code + PKCE',
    '  TOKEN=$(npm run -s token -- demo-child-health-system)  # an agency system: client credentials',
    '',
  ];
}

/** What the example child shows of outcomes, perspectives and decisions (issue 13), and where to read it. */
function storyLines(projection, headers, example) {
  const story = example.story;
  if (!story) return [];
  const list = (domains) => (domains.length ? domains.join(', ') : 'none');
  const professionals = [
    ...new Set(story.perspectives.filter((p) => p.startsWith('professional:')).map((p) => p.split(':')[1])),
  ];
  const { open, overdue, reviewed } = story.decisions;
  return [
    `What ${example.name} shows (as generated for ${example.asOf}):`,
    `  outcomes over years: improving ${list(story.improving)}; worsening ${list(story.worsening)}` +
      (story.fluctuating.length ? `; fluctuating ${list(story.fluctuating)}` : ''),
    `  perspectives: ${story.perspectives.filter((p) => !p.startsWith('professional:')).join(', ')} and professionals of ` +
      `${professionals.join(', ')}; ${story.disagreements} rounds where their ratings disagree, ` +
      `${story.viewsDiffer} records that views differ`,
    `  decisions: ${open} open, ${story.decisions['review-due']} review due, ${overdue} overdue, ${reviewed} reviewed ` +
      `(${story.reviews} reviews in all; statuses as of ${example.asOf})`,
    `  indicators beside accounts: ${story.asq3} ASQ-3 review${story.asq3 === 1 ? '' : 's'}; ` +
      `key stage ${story.keyStages.length ? story.keyStages.join(', ') : 'none yet'}`,
    ...(example.served
      ? [
          `  as the projection answers on ${example.served.today}: decisions ` +
            Object.entries(example.served.decisions)
              .map(([status, count]) => `${count} ${status}`)
              .join(', ') +
            `; safety rated by ${example.served.safetyPerspectives.length} perspectives, ` +
            `${example.served.disagreements} disagreements, ${example.served.viewsDiffer} views differ`,
        ]
      : []),
    '',
    `  curl -s '${projection}/v1/children/${example.childKey}/outcomes?framework=signs-of-safety&period=term' ${headers}`,
    `  curl -s '${projection}/v1/children/${example.childKey}/outcomes?framework=ecm&period=year' ${headers}`,
    `  curl -s ${projection}/v1/children/${example.childKey}/decisions ${headers}`,
    '',
  ];
}

/** The analyst's worked example: the catalogue, one measure by period under disclosure control, the page. */
function analystLines(projection, result) {
  const analyst = `-H "authorization: Bearer $(npm run -s token -- demo-analyst)" -H 'x-purpose: analysis'`;
  const query = result?.analysis?.query ?? {
    measure: 're-referral-12-months',
    groupBy: ['period'],
    period: 'financial-year',
  };
  const shown = result?.analysis
    ? ` (${result.children} children fed: ${result.analysis.cells} cells over ${result.analysis.cohortSize} children, ` +
      `${result.analysis.suppressed} suppressed; DEMO_CHILDREN=5000 npm start for fewer)`
    : '';
  return [
    `Analysts (pseudonymised model, disclosure control): ${result?.analysis?.measures ?? 'the'} measures${shown}`,
    `  curl -s ${projection}/v1/analysis/measures ${analyst}`,
    `  curl -s -X POST ${projection}/v1/analysis/queries ${analyst} \\`,
    `    -H 'content-type: application/json' -d '${JSON.stringify(query)}'`,
    `  Analyst's page: ${projection}/analysis  (sign in as demo-analyst)`,
    '',
  ];
}

function banner(urls, result) {
  const projection = urls.projection;
  const headers = `-H "authorization: Bearer $(npm run -s token -- demo-social-worker)" -H 'x-purpose: safeguarding'`;
  const reviewer = `-H "authorization: Bearer $(npm run -s token -- demo-supervisor)" -H 'x-purpose: identity-review'`;
  const lines = [
    '',
    'Throughline is running (synthetic data only). Ctrl-C stops everything.',
    '',
    ...APPS.map(({ name }) => `  ${name.padEnd(12)} ${urls[name]}   (OpenAPI: ${urls[name]}/docs)`),
    '',
    `  Practitioners' page: ${projection}/  (sign in as a demo person)`,
    '',
    ...signInLines(),
  ];
  if (result) {
    const { example } = result;
    lines.push(
      `Example: ${example.name} (synthetic), linked across ${example.agencies.join(', ')}, ${example.entries} timeline entries.`,
      '',
      `  curl -s -X POST ${projection}/v1/children/lookup \\`,
      `    ${headers} -H 'content-type: application/json' \\`,
      `    -d '{"identifier":{"type":"nhs-number","value":"${example.nhsNumber}"}}'`,
      `  # -> {"childKey":"${example.childKey}"}`,
      '',
      `  curl -s ${projection}/v1/children/${example.childKey}/timeline ${headers}`,
      '',
      ...storyLines(projection, headers, example),
    );
  }
  if (result?.identity) {
    const { proposal, conflict, openProposals, conflicts } = result.identity;
    lines.push(
      `Identity review: ${openProposals} open match proposals, ${conflicts} conflicts (flagged, never merged).`,
      `  e.g. ${proposal.subject} ~ ${proposal.candidate} (score ${proposal.score.toFixed(1)}), and`,
      `  ${conflict.subject} vs ${conflict.others.join(', ')} (${conflict.rule})`,
      '',
      `  curl -s '${projection}/v1/identity/proposals?status=open' ${reviewer}`,
      `  curl -s ${projection}/v1/identity/conflicts ${reviewer}`,
      `  curl -s -X POST ${projection}/v1/identity/proposals/${proposal.proposalId}/confirm ${reviewer}`,
      '',
    );
  }
  lines.push(...analystLines(projection, result));
  for (const line of lines) say('start', line);
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const feedWanted = !process.argv.includes('--no-feed');
  await step(build());
  // The config is parsed by the project's own loader, from the tree just built.
  const { loadConfig } = require(path.join(ROOT, 'dist/libs/platform/config.js'));
  const config = loadConfig();
  const host = config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST;
  // The database roles and the database, made once here (as DATABASE_ADMIN_URL, only if missing) so
  // that apps starting together never race to: the apps connect as the app role, and migrate as
  // the owner role (docs/decisions/011-database-roles.md).
  const { prepareDatabase } = require(path.join(ROOT, 'dist/libs/platform/database-roles.js'));
  await step(prepareDatabase(config, (line) => say('start', line)));

  say('start', `ensuring a Kafka broker at ${config.KAFKA_BROKERS}`);
  // keepData: the database outlives a run, and with it the recorder's Kafka offsets; a broker
  // started here keeps its topics too, so those offsets still mean the same messages next time.
  // The broker makes the apps' topics and the ACLs for their own principals (SASL/SCRAM, credentials
  // generated at first start into the cache dir, docs/decisions/010-secured-broker.md).
  brokerLaunch = ensureBroker({
    brokers: config.KAFKA_BROKERS,
    keepData: true,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    recorderGroup: config.RECORDER_GROUP_ID,
    partitions: config.KAFKA_PARTITIONS,
    log: (line) => say('kafka', line),
  });
  const broker = await step(brokerLaunch);
  say(
    'start',
    `Kafka broker at ${broker.brokers.join(',')}${broker.startedHere ? ' (started here; stopped on exit)' : ' (already running; left running on exit)'}`,
  );
  if (stopping) return;

  // The OpenID provider people sign in with and agency systems get their tokens from.
  oidcLaunch = ensureOidcProvider({ issuer: config.OIDC_ISSUER, log: (line) => say('oidc', line) });
  const oidc = await step(oidcLaunch);
  oidcReady = oidc;
  say(
    'start',
    `OpenID provider at ${oidc.issuer}${oidc.startedHere ? ' (started here; stopped on exit)' : oidc.external ? ' (external, not answering yet)' : ' (already running; left running on exit)'}`,
  );
  if (stopping) return;

  const urls = Object.fromEntries(
    APPS.map(({ name, portKey }) => [name, `http://${host}:${config[portKey]}`]),
  );
  // Agency services first: they create the agency topics, which the recorder then consumes.
  for (const wave of [APPS.filter((app) => app.agency), APPS.filter((app) => !app.agency)]) {
    if (stopping) return;
    const entries = wave.map(({ name }) => {
      const entry = runChild(name, process.execPath, [
        '-r',
        './scripts/register-dist.js',
        `dist/apps/${name}/main.js`,
      ]);
      watchForCrash(entry);
      return entry;
    });
    await step(Promise.all(entries.map((entry) => waitHealthy(entry, urls[entry.name]))));
  }
  say('start', `all ${APPS.length} apps answer on /health`);

  if (stopping) return;
  const result = feedWanted ? await step(runFeed()) : null;
  if (result?.fed)
    say('start', `demo cohort fed: ${result.fed.accepted} accepted, ${result.fed.rejected} rejected`);
  else if (result) say('start', `demo cohort already recorded (${result.events} events): nothing fed`);
  banner(urls, result);
  // Keep running until a signal or an app crash.
  await step(new Promise(() => {}));
}

let exiting = false;
async function shutdown(code, message) {
  if (exiting) return;
  exiting = true;
  stopping = true;
  if (message) process.stderr.write(`\n${message}\n\n`);
  say('start', 'stopping the apps');
  try {
    await stopEverything();
  } catch (error) {
    process.stderr.write(`error while stopping: ${error.stack ?? error}\n`);
    code = code || 1;
  }
  say('start', 'stopped');
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (exiting) return say('start', 'still stopping; please wait');
    say('start', `${signal} received`);
    void shutdown(0);
  });
}

// Last resort if this script itself dies: never leave detached apps behind.
process.on('exit', () => {
  for (const entry of children.values()) if (!entry.exited) signalGroup(entry.child.pid, 'SIGKILL');
});

main().catch((error) => {
  const known = error instanceof Fatal || error?.name === 'BrokerLaunchError';
  void shutdown(1, known ? error.message : `npm start failed: ${error.stack ?? error}`);
});
