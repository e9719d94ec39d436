#!/usr/bin/env node
// Local single-node Apache Kafka (KRaft) for `npm start`, `npm test` and CI.
// There is no broker package on these machines, so the broker runs from the Apache Kafka jars on
// Maven Central (infra/pom.xml), cached outside git. One script starts, waits for and stops it.
//
//   node infra/kafka.mjs start|ensure|status|stop [--keep-data]
//   node infra/kafka.mjs grant [--prefix <topic prefix>] [--group <recorder group>]
//
// As a module: ensureBroker(options) -> { brokers, startedHere, pid, logFile, stop() }, stopBroker(options),
// brokerStatus(options), grantAccess(options).
//
// The broker is secured as a production one would be (docs/decisions/010-secured-broker.md): clients
// authenticate with SASL/SCRAM-SHA-512 as one principal per component, the StandardAuthorizer denies
// whatever no ACL allows, and the ACLs give each principal only its own topics. The passwords are
// generated at first start into <cache>/kafka-credentials.json (mode 0600), never committed; only this
// launcher uses the admin principal.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';

const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } =
  kafkajs;

const INFRA_DIR = path.dirname(fileURLToPath(import.meta.url));
const POM_FILE = path.join(INFRA_DIR, 'pom.xml');
const LOG4J_CONFIG = path.join(INFRA_DIR, 'log4j2.properties');
const DEFAULT_BROKERS = '127.0.0.1:9092';
const READINESS_TOPIC = 'throughline.launcher-readiness';
const READINESS_GROUP = 'throughline-readiness-probe';
const CREDENTIALS_FILE = 'kafka-credentials.json';
const SCRAM_MECHANISM = 'SCRAM-SHA-512';
/** The broker's own principal (inter-broker and broker-to-controller) and the launcher's: both super users. */
const BROKER_USER = 'broker';
const ADMIN_USER = 'admin';
/**
 * One SCRAM principal per component (the name `createKafka` is given -> the Kafka user). Tests and
 * the benchmark have principals of their own, confined to their topic namespaces.
 */
export const COMPONENT_PRINCIPALS = Object.freeze({
  health: 'health-service',
  education: 'education-service',
  'social-care': 'social-care-service',
  recorder: 'recorder',
  'access-notifications-producer': 'access-notifications-producer',
  'access-notifications-consumer': 'access-notifications-consumer',
  bench: 'bench',
  test: 'test',
});
/** Topic and group name prefixes the test and bench principals own (every test topic prefix starts so). */
const NAMESPACES = Object.freeze({ test: ['test-', 'it-', 'e2e-'], bench: ['bench.'] });
const AGENCY_PRINCIPALS = Object.freeze({
  health: COMPONENT_PRINCIPALS.health,
  education: COMPONENT_PRINCIPALS.education,
  'social-care': COMPONENT_PRINCIPALS['social-care'],
});
const DEFAULT_RECORDER_GROUP = 'throughline-recorder';
/** The group prefix the access-notifications consumer may use (Nest's Kafka transport appends `-server`). */
const NOTIFICATIONS_GROUP = 'throughline-access-notifications';

/** Defaults, with their units. Every one can be overridden through the options argument. */
const DEFAULTS = Object.freeze({
  readyTimeoutMs: 90_000, // from launching the JVM to a broker that creates topics
  stopTimeoutMs: 30_000, // SIGTERM (controlled shutdown) before SIGKILL
  probeTimeoutMs: 1_500, // one "does a broker answer here?" attempt
  lockTimeoutMs: 300_000, // another launcher may be downloading jars and starting the broker
  pollIntervalMs: 500,
  heapOptions: ['-Xmx512m', '-Xms256m'], // overridden by KAFKA_HEAP_OPTS; the machines have 2 cores
});

export class BrokerLaunchError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'BrokerLaunchError';
  }
}

// ---------------------------------------------------------------------------------------------
// Options

function parseBrokers(value) {
  const list = (Array.isArray(value) ? value : String(value).split(','))
    .map((entry) => entry.trim())
    .filter(Boolean);
  const bad = list.filter((entry) => !/^[^:\s]+:\d{1,5}$/.test(entry));
  if (list.length === 0 || bad.length > 0) {
    throw new BrokerLaunchError(
      `KAFKA_BROKERS must be host:port[,host:port…], got "${value}"; unset it to use ${DEFAULT_BROKERS}`,
    );
  }
  return list;
}

function resolveOptions(options = {}) {
  const brokers = parseBrokers(options.brokers ?? process.env.KAFKA_BROKERS ?? DEFAULT_BROKERS);
  const [host, portText] = brokers[0].split(':');
  const port = Number(portText);
  if (port < 1 || port > 65534) throw new BrokerLaunchError(`broker port ${port} must be within 1..65534`);
  const cacheDir = path.resolve(
    options.cacheDir ?? process.env.THROUGHLINE_CACHE ?? path.join(os.homedir(), '.cache', 'throughline'),
  );
  return {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    brokers,
    // The broker binds where clients are told to find it; the controller listens one port above.
    host,
    port,
    controllerPort: port + 1,
    cacheDir,
    dataDir: path.resolve(options.dataDir ?? path.join(cacheDir, `broker-data-${port}`)),
    // The pid file and the lock live beside the data dir, which is wiped on every fresh start.
    pidFile: path.join(cacheDir, `broker-${port}.pid`),
    lockFile: path.join(cacheDir, `broker-${port}.lock`),
    keepData: options.keepData ?? process.env.THROUGHLINE_KAFKA_KEEP_DATA === '1',
    credentialsFile: path.join(cacheDir, CREDENTIALS_FILE),
    // The ACLs made at start are for the topics and group the apps will use.
    topicPrefix: options.topicPrefix ?? process.env.KAFKA_TOPIC_PREFIX ?? '',
    recorderGroup: options.recorderGroup ?? process.env.RECORDER_GROUP_ID ?? DEFAULT_RECORDER_GROUP,
    partitions: Number(options.partitions ?? process.env.KAFKA_PARTITIONS ?? 3),
    log: options.log ?? ((line) => process.stderr.write(`[kafka] ${line}\n`)),
  };
}

// ---------------------------------------------------------------------------------------------
// Credentials: generated once per cache dir, mode 0600, never in git

function randomPassword() {
  return crypto.randomBytes(32).toString('hex'); // hex: safe inside --add-scram and JAAS quoting
}

function credentialsOf(record, username) {
  return { username, password: record?.password ?? randomPassword() };
}

/** Every principal the local broker knows, with its password: created or completed under the cache dir. */
export function ensureCredentials(options = {}) {
  const o = options.credentialsFile ? options : resolveOptions(options);
  const file = o.credentialsFile;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const existing = readCredentials(file);
  const wanted = {
    mechanism: SCRAM_MECHANISM,
    broker: credentialsOf(existing?.broker, BROKER_USER),
    admin: credentialsOf(existing?.admin, ADMIN_USER),
    components: Object.fromEntries(
      Object.entries(COMPONENT_PRINCIPALS).map(([component, username]) => [
        component,
        credentialsOf(
          existing?.components?.[component]?.username === username ? existing.components[component] : null,
          username,
        ),
      ]),
    ),
  };
  const text = `${JSON.stringify(wanted, null, 2)}\n`;
  if (existing === null) {
    // Written whole, then linked into place, which fails if it exists: two launchers starting at
    // once agree on the first one's passwords, and no reader ever sees half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    try {
      fs.linkSync(tmp, file);
      o.log?.(`generated Kafka credentials in ${file} (mode 0600)`);
      return wanted;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      return ensureCredentials(o);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  if (JSON.stringify(existing) !== JSON.stringify(wanted)) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, file);
    o.log?.(`added missing principals to ${file}`);
  }
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  return wanted;
}

function readCredentials(file) {
  const text = readText(file);
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BrokerLaunchError(
      `${file} is not JSON (${error.message}); delete it to generate new credentials`,
    );
  }
}

/** The SCRAM users formatted into the broker's metadata. */
function scramUsers(credentials) {
  return [credentials.broker, credentials.admin, ...Object.values(credentials.components)];
}

/** Changes when a password or a principal changes: a kept data dir formatted with other users is reformatted. */
function credentialsFingerprint(credentials) {
  const users = scramUsers(credentials)
    .map(({ username, password }) => `${username}:${password}`)
    .sort();
  return crypto.createHash('sha256').update(users.join('\n')).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Probing a broker with kafkajs, as the admin principal

function quietClient(o, timeoutMs, retries = 0) {
  const { username, password } = ensureCredentials(o).admin;
  return new Kafka({
    clientId: 'throughline-broker-launcher',
    brokers: o.brokers,
    logLevel: logLevel.NOTHING,
    sasl: { mechanism: SCRAM_MECHANISM.toLowerCase(), username, password },
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries, initialRetryTime: 100 },
  });
}

async function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The cluster description if a Kafka broker answers at `brokers` and accepts the admin, otherwise null. */
async function describeCluster(o, timeoutMs) {
  const admin = quietClient(o, timeoutMs).admin();
  try {
    await withTimeout(admin.connect(), timeoutMs, 'connect');
    return await withTimeout(admin.describeCluster(), timeoutMs, 'describeCluster');
  } catch {
    return null;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Whether anything accepts a TCP connection at the first broker address. */
function portAnswers(o, timeoutMs) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: o.host === '0.0.0.0' ? '127.0.0.1' : o.host, port: o.port });
    const done = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Something listens on the broker port but does not let our admin in: never start a second one over it. */
function refusedByListener(o) {
  return new BrokerLaunchError(
    `something answers at ${o.brokers[0]} but does not accept the admin credentials from ${o.credentialsFile}. ` +
      'A broker started before the broker was secured (plain listener), or with another cache dir ' +
      '(THROUGHLINE_CACHE), is still running there: restart it with `npm run kafka:stop && npm run kafka:start`, ' +
      'or point KAFKA_BROKERS elsewhere.',
  );
}

/**
 * A broker that answers metadata requests may still have no working controller, and on a fresh
 * log no group coordinator (__consumer_offsets is created and loaded on first use, answering
 * COORDINATOR_LOAD_IN_PROGRESS meanwhile): prove it can create a topic and fetch a group's offsets.
 */
async function canCreateTopics(o, timeoutMs) {
  const admin = quietClient(o, timeoutMs, 2).admin();
  try {
    await withTimeout(admin.connect(), timeoutMs, 'connect');
    await withTimeout(
      admin.createTopics({
        topics: [{ topic: READINESS_TOPIC, numPartitions: 1, replicationFactor: 1 }],
        waitForLeaders: true,
        timeout: timeoutMs,
      }),
      timeoutMs * 4,
      'createTopics',
    );
    await withTimeout(
      admin.fetchOffsets({ groupId: READINESS_GROUP, topics: [READINESS_TOPIC] }),
      timeoutMs * 4,
      'fetchOffsets',
    );
    await withTimeout(
      admin.deleteTopics({ topics: [READINESS_TOPIC], timeout: timeoutMs }),
      timeoutMs * 4,
      'deleteTopics',
    );
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Access: topics and ACLs, made by the admin principal

const CLUSTER_RESOURCE = 'kafka-cluster';

/** The topic names the apps use under a prefix (libs/platform/kafka.ts topicNames, plus the notifications and gateway-rejections topics). */
function topicsFor(prefix) {
  return {
    agency: Object.fromEntries(
      Object.keys(AGENCY_PRINCIPALS).map((agency) => [agency, `${prefix}${agency}.events.v1`]),
    ),
    deadLetter: `${prefix}throughline.dead-letter.v1`,
    accessNotifications: `${prefix}throughline.access-notifications.v1`,
    // libs/platform/gateway-rejection-note.ts gatewayRejectionsTopic
    gatewayRejections: `${prefix}throughline.gateway-rejections.v1`,
  };
}

/** The recorder's group for the gateway-rejections topic (apps/recorder: RECORDER_GROUP_ID + this). */
export const GATEWAY_REJECTIONS_GROUP_SUFFIX = '.gateway-rejections';

function allow(username, resourceType, resourceName, patternType, operations) {
  return operations.map((operation) => ({
    principal: `User:${username}`,
    resourceType,
    resourceName,
    patternType,
    operation,
  }));
}

/**
 * Who may do what on the topics and group of one deployment (topic prefix, recorder group). Everything
 * else is denied (allow.everyone.if.no.acl.found=false). Read and Write imply Describe on the same
 * resource; Describe is listed anyway so that the table reads as what kafkajs needs.
 */
export function accessBindings(prefix = '', recorderGroup = DEFAULT_RECORDER_GROUP) {
  const topics = topicsFor(prefix);
  const { TOPIC, GROUP, CLUSTER } = RESOURCE;
  const { READ, WRITE, DESCRIBE, IDEMPOTENT_WRITE } = OPERATION;
  const bindings = [];
  for (const [agency, username] of Object.entries(AGENCY_PRINCIPALS)) {
    // Each agency service writes its own topic, and nothing else.
    bindings.push(...allow(username, TOPIC, topics.agency[agency], 'LITERAL', [WRITE, DESCRIBE]));
    bindings.push(...allow(username, CLUSTER, CLUSTER_RESOURCE, 'LITERAL', [IDEMPOTENT_WRITE]));
    // …and notes the events it rejected (no payload) for the recorder to keep (decision 012).
    bindings.push(...allow(username, TOPIC, topics.gatewayRejections, 'LITERAL', [WRITE, DESCRIBE]));
  }
  const recorder = COMPONENT_PRINCIPALS.recorder;
  for (const topic of Object.values(topics.agency))
    bindings.push(...allow(recorder, TOPIC, topic, 'LITERAL', [READ, DESCRIBE]));
  bindings.push(...allow(recorder, TOPIC, topics.deadLetter, 'LITERAL', [WRITE, DESCRIBE]));
  bindings.push(...allow(recorder, GROUP, recorderGroup, 'LITERAL', [READ, DESCRIBE]));
  bindings.push(...allow(recorder, TOPIC, topics.gatewayRejections, 'LITERAL', [READ, DESCRIBE]));
  bindings.push(
    ...allow(recorder, GROUP, `${recorderGroup}${GATEWAY_REJECTIONS_GROUP_SUFFIX}`, 'LITERAL', [
      READ,
      DESCRIBE,
    ]),
  );
  bindings.push(...allow(recorder, CLUSTER, CLUSTER_RESOURCE, 'LITERAL', [IDEMPOTENT_WRITE]));
  const notify = COMPONENT_PRINCIPALS['access-notifications-producer'];
  bindings.push(...allow(notify, TOPIC, topics.accessNotifications, 'LITERAL', [WRITE, DESCRIBE]));
  bindings.push(...allow(notify, CLUSTER, CLUSTER_RESOURCE, 'LITERAL', [IDEMPOTENT_WRITE]));
  const notified = COMPONENT_PRINCIPALS['access-notifications-consumer'];
  bindings.push(...allow(notified, TOPIC, topics.accessNotifications, 'LITERAL', [READ, DESCRIBE]));
  bindings.push(...allow(notified, GROUP, `${prefix}${NOTIFICATIONS_GROUP}`, 'PREFIXED', [READ, DESCRIBE]));
  return bindings;
}

/** The test and bench principals: everything, but only on their own name prefixes (never a deployment's topics). */
function namespaceBindings() {
  const { TOPIC, GROUP, CLUSTER } = RESOURCE;
  const { ALL, IDEMPOTENT_WRITE } = OPERATION;
  return Object.entries(NAMESPACES).flatMap(([component, prefixes]) => {
    const username = COMPONENT_PRINCIPALS[component];
    return [
      ...prefixes.flatMap((prefix) => [
        ...allow(username, TOPIC, prefix, 'PREFIXED', [ALL]),
        ...allow(username, GROUP, prefix, 'PREFIXED', [ALL]),
      ]),
      ...allow(username, CLUSTER, CLUSTER_RESOURCE, 'LITERAL', [IDEMPOTENT_WRITE]),
    ];
  });
}

const RESOURCE = Object.freeze({
  TOPIC: AclResourceTypes.TOPIC,
  GROUP: AclResourceTypes.GROUP,
  CLUSTER: AclResourceTypes.CLUSTER,
});
const OPERATION = Object.freeze({
  ALL: AclOperationTypes.ALL,
  READ: AclOperationTypes.READ,
  WRITE: AclOperationTypes.WRITE,
  DESCRIBE: AclOperationTypes.DESCRIBE,
  IDEMPOTENT_WRITE: AclOperationTypes.IDEMPOTENT_WRITE,
});

function toKafkajsAcl(binding) {
  return {
    resourceType: binding.resourceType,
    resourceName: binding.resourceName,
    resourcePatternType: ResourcePatternTypes[binding.patternType],
    principal: binding.principal,
    host: '*',
    operation: binding.operation,
    permissionType: AclPermissionTypes.ALLOW,
  };
}

/**
 * Creates the topics of a prefix (the apps' principals may not create topics) and the ACLs for them
 * and for recorderGroup, as the admin. Idempotent: existing topics and ACLs are left as they are.
 */
async function applyAccess(o, access, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await applyAccessOnce(o, access);
    } catch (error) {
      // A topic just created may answer UNKNOWN_TOPIC_OR_PARTITION for a moment.
      const retriable = error.retriable === true || error.cause?.retriable === true;
      if (!retriable || Date.now() > deadline) throw error;
      await delay(o.pollIntervalMs);
    }
  }
}

async function applyAccessOnce(o, { topicPrefix, recorderGroup }) {
  const admin = quietClient(o, 10_000, 5).admin();
  try {
    await admin.connect();
    const topics = topicsFor(topicPrefix);
    const wanted = [
      ...Object.values(topics.agency),
      topics.deadLetter,
      topics.accessNotifications,
      topics.gatewayRejections,
    ];
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      try {
        await admin.createTopics({
          topics: missing.map((topic) => ({ topic, numPartitions: o.partitions, replicationFactor: 1 })),
          waitForLeaders: true,
        });
      } catch (error) {
        if (error.type !== 'TOPIC_ALREADY_EXISTS') throw error;
      }
    }
    const bindings = [...accessBindings(topicPrefix, recorderGroup), ...namespaceBindings()];
    await admin.createAcls({ acl: bindings.map(toKafkajsAcl) });
    return { topics: wanted, acls: bindings.length };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Processes, pid file, lock

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    throw error;
  }
}

/** Alive and not a zombie waiting to be reaped. */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return error.code === 'EPERM';
  }
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) return true; // no procfs: trust kill(0)
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** Guards against a stale pid file whose pid now belongs to an unrelated process. */
function isOurBroker(pid, propertiesFile) {
  if (!isAlive(pid)) return false;
  const cmdline = readText(`/proc/${pid}/cmdline`);
  if (cmdline === null) return true; // no procfs: trust the pid file
  return cmdline.includes('kafka.Kafka') && cmdline.includes(propertiesFile);
}

function propertiesFileOf(o) {
  return path.join(o.dataDir, 'server.properties');
}

/** The recorded broker process, or null (a stale pid file is removed). */
function readPidRecord(o) {
  const text = readText(o.pidFile);
  if (text === null) return null;
  let record;
  try {
    record = JSON.parse(text);
  } catch {
    record = { pid: Number(text) };
  }
  if (Number.isInteger(record.pid) && record.pid > 0 && isOurBroker(record.pid, propertiesFileOf(o)))
    return record;
  o.log(`removing stale pid file ${o.pidFile} (pid ${record.pid} is not a running broker)`);
  fs.rmSync(o.pidFile, { force: true });
  return null;
}

const heldLocks = new Set();

/** Serialises launchers (npm start, npm test, a developer's terminal) on one port across processes. */
async function withLock(o, fn) {
  if (heldLocks.has(o.lockFile)) return fn(); // re-entered, e.g. stop on SIGINT during a start
  fs.mkdirSync(path.dirname(o.lockFile), { recursive: true });
  const deadline = Date.now() + o.lockTimeoutMs;
  let waitingSaid = false;
  for (;;) {
    try {
      fs.writeFileSync(o.lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const text = readText(o.lockFile);
    const owner = Number(text);
    const justCreated =
      text === '' && Date.now() - (fs.statSync(o.lockFile, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 5_000;
    if (text !== null && !justCreated && (!owner || !isAlive(owner))) {
      fs.rmSync(o.lockFile, { force: true }); // its owner died
      continue;
    }
    if (Date.now() > deadline) {
      throw new BrokerLaunchError(
        `timed out waiting for ${o.lockFile} (held by pid ${owner}); remove it if that pid is gone`,
      );
    }
    if (!waitingSaid) o.log(`waiting for another launcher (pid ${owner}) to finish with port ${o.port}`);
    waitingSaid = true;
    await delay(250);
  }
  heldLocks.add(o.lockFile);
  try {
    return await fn();
  } finally {
    heldLocks.delete(o.lockFile);
    fs.rmSync(o.lockFile, { force: true });
  }
}

async function waitUntil(condition, timeoutMs, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await delay(intervalMs);
  }
}

/** SIGTERM the broker's process group, SIGKILL it if the deadline passes. */
async function terminate(pid, timeoutMs, log) {
  const signal = (name) => {
    try {
      process.kill(-pid, name); // the broker leads its own group
    } catch (error) {
      if (error.code !== 'ESRCH') throw error;
      try {
        process.kill(pid, name);
      } catch (inner) {
        if (inner.code !== 'ESRCH') throw inner;
      }
    }
  };
  signal('SIGTERM');
  if (await waitUntil(() => !isAlive(pid), timeoutMs)) return 'terminated';
  log(`broker pid ${pid} ignored SIGTERM for ${timeoutMs} ms; sending SIGKILL`);
  signal('SIGKILL');
  if (await waitUntil(() => !isAlive(pid), 10_000)) return 'killed';
  throw new BrokerLaunchError(`broker pid ${pid} is still alive after SIGKILL`);
}

function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', (error) =>
      reject(new BrokerLaunchError(`cannot run ${command}: ${error.message}`, { cause: error })),
    );
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function tail(file, lines = 40) {
  const text = readText(file);
  if (!text) return `  (${file} is empty or missing)`;
  return text
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((line) => `  ${line}`)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Jars, configuration, launch

/** The lines that usually name the cause, so it is not buried under a stack trace. */
function errorSummary(file, limit = 8) {
  const lines = (readText(file) ?? '').split('\n');
  const telling = lines.filter((line) => / ERROR |^Caused by: |^\S+(Exception|Error): /.test(line));
  return telling.length === 0
    ? '  (no ERROR lines)'
    : telling
        .slice(0, limit)
        .map((line) => `  ${line}`)
        .join('\n');
}

function javaCommand() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Copies the broker's runtime classpath from Maven into the cache once per pom content. */
async function ensureLibs(o) {
  const pom = fs.readFileSync(POM_FILE, 'utf8');
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  if (!version) throw new BrokerLaunchError(`${POM_FILE} has no <kafka.version> property`);
  const pomHash = crypto.createHash('sha256').update(pom).digest('hex');
  const versionDir = path.join(o.cacheDir, `kafka-${version}`);
  const libsDir = path.join(versionDir, 'libs');
  // The stamp is written before the rename, so a libs dir without it is incomplete or from another pom.
  const stampName = '.resolved-from-pom.sha256';
  if (readText(path.join(libsDir, stampName))?.trim() === pomHash) return libsDir;

  fs.mkdirSync(versionDir, { recursive: true });
  for (const entry of fs.readdirSync(versionDir)) {
    const owner = /^\.libs-(?:tmp|old)-(\d+)-/.exec(entry)?.[1];
    if (owner && !isAlive(Number(owner)))
      fs.rmSync(path.join(versionDir, entry), { recursive: true, force: true });
  }
  const started = Date.now();
  o.log(`resolving Apache Kafka ${version} jars from Maven into ${libsDir}`);
  const tmpDir = path.join(versionDir, `.libs-tmp-${process.pid}-${started}`);
  const result = await run('mvn', [
    '-q',
    '-B',
    '-f',
    POM_FILE,
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${tmpDir}`,
  ]);
  if (result.code !== 0) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    throw new BrokerLaunchError(
      `mvn could not resolve the broker jars (exit ${result.code}):\n${result.stdout}${result.stderr}`,
    );
  }
  if (!fs.existsSync(path.join(tmpDir, `kafka_2.13-${version}.jar`))) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    throw new BrokerLaunchError(`mvn finished but kafka_2.13-${version}.jar is not in ${tmpDir}`);
  }
  fs.writeFileSync(path.join(tmpDir, stampName), `${pomHash}\n`);
  const oldDir = path.join(versionDir, `.libs-old-${process.pid}-${started}`);
  if (fs.existsSync(libsDir)) fs.renameSync(libsDir, oldDir);
  fs.renameSync(tmpDir, libsDir);
  fs.rmSync(oldDir, { recursive: true, force: true });
  o.log(`jars ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return libsDir;
}

function jaas(module, fields) {
  const pairs = Object.entries(fields).map(([key, value]) => `${key}="${value}"`);
  return `${module} required ${pairs.join(' ')};`;
}

/** The broker's configuration. It holds the broker's own passwords: written mode 0600 into a 0700 data dir. */
function serverProperties(o, credentials) {
  const advertisedHost = o.host === '0.0.0.0' ? '127.0.0.1' : o.host;
  const { username, password } = credentials.broker;
  return [
    '# Written by infra/kafka.mjs on every start; edits are lost.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${o.controllerPort}`,
    // Clients (and the broker itself) authenticate with SCRAM on CLIENT; the controller listener, on
    // loopback, takes only the broker's own PLAIN login (KRaft controllers cannot use SCRAM).
    `listeners=CLIENT://${o.host}:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
    `advertised.listeners=CLIENT://${advertisedHost}:${o.port}`,
    'listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT',
    'inter.broker.listener.name=CLIENT',
    'controller.listener.names=CONTROLLER',
    `sasl.enabled.mechanisms=${SCRAM_MECHANISM}`,
    `listener.name.client.sasl.enabled.mechanisms=${SCRAM_MECHANISM}`,
    `sasl.mechanism.inter.broker.protocol=${SCRAM_MECHANISM}`,
    `listener.name.client.${SCRAM_MECHANISM.toLowerCase()}.sasl.jaas.config=${jaas(
      'org.apache.kafka.common.security.scram.ScramLoginModule',
      { username, password },
    )}`,
    'listener.name.controller.sasl.enabled.mechanisms=PLAIN',
    'sasl.mechanism.controller.protocol=PLAIN',
    `listener.name.controller.plain.sasl.jaas.config=${jaas(
      'org.apache.kafka.common.security.plain.PlainLoginModule',
      {
        username,
        password,
        [`user_${username}`]: password,
      },
    )}`,
    // Whatever no ACL allows is denied; the broker and the launcher's admin are the only super users.
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found=false',
    `super.users=User:${BROKER_USER};User:${ADMIN_USER}`,
    `log.dirs=${path.join(o.dataDir, 'kraft-logs')}`,
    // Topics are created explicitly by the apps and the tests, never by a typo.
    'auto.create.topics.enable=false',
    'num.partitions=3',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    // One node: every internal topic has a single replica.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Tests join fresh consumer groups all the time; the default 3 s delay would slow each one.
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

/** Kafka's cluster ids are a random 16-byte UUID in base64url, never starting with a dash. */
function randomClusterId() {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function jvmOptions(o) {
  const heap = process.env.KAFKA_HEAP_OPTS
    ? process.env.KAFKA_HEAP_OPTS.split(/\s+/).filter(Boolean)
    : o.heapOptions;
  return [
    ...heap,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
    `-Dkafka.logs.dir=${o.dataDir}`,
  ];
}

async function launch(o) {
  const started = Date.now();
  const libsDir = await ensureLibs(o);
  const classpath = path.join(libsDir, '*'); // expanded by java itself
  const credentials = ensureCredentials(o);
  const fingerprint = credentialsFingerprint(credentials);
  const fingerprintFile = path.join(o.dataDir, 'credentials.sha256');
  const propertiesFile = propertiesFileOf(o);
  const kraftLogs = path.join(o.dataDir, 'kraft-logs');
  if (o.keepData && fs.existsSync(kraftLogs) && readText(fingerprintFile)?.trim() !== fingerprint) {
    // Its SCRAM users were formatted from other credentials (or before the broker was secured).
    o.log(`the kept data in ${o.dataDir} was formatted with other credentials; starting with fresh data`);
    fs.rmSync(o.dataDir, { recursive: true, force: true });
  }
  if (!o.keepData) fs.rmSync(o.dataDir, { recursive: true, force: true });
  fs.mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(o.dataDir, 0o700);
  fs.rmSync(propertiesFile, { force: true });
  fs.writeFileSync(propertiesFile, serverProperties(o, credentials), { mode: 0o600 });

  if (!fs.existsSync(path.join(kraftLogs, 'meta.properties'))) {
    // SCRAM users are part of the formatted metadata (KIP-900): they exist before the first client.
    const scram = scramUsers(credentials).flatMap(({ username, password }) => [
      '--add-scram',
      `${SCRAM_MECHANISM}=[name=${username},password=${password}]`,
    ]);
    const format = await run(
      javaCommand(),
      [
        '-Xmx256m',
        `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
        `-Dkafka.logs.dir=${o.dataDir}`,
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        randomClusterId(),
        '-c',
        propertiesFile,
        ...scram,
      ],
      { cwd: o.dataDir },
    );
    if (format.code !== 0) {
      throw new BrokerLaunchError(
        `formatting ${kraftLogs} failed (exit ${format.code}):\n${format.stdout}${format.stderr}`,
      );
    }
    fs.writeFileSync(fingerprintFile, `${fingerprint}\n`, { mode: 0o600 });
  }

  const stdoutLog = path.join(o.dataDir, 'broker.out');
  const out = fs.openSync(stdoutLog, 'a');
  const child = spawn(javaCommand(), [...jvmOptions(o), '-cp', classpath, 'kafka.Kafka', propertiesFile], {
    cwd: o.dataDir,
    detached: true, // its own process group: stop signals the group, a Ctrl-C in our terminal does not reach it
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  let exit = null;
  child.on('exit', (code, signal) => (exit = { code, signal }));
  const spawnError = await new Promise((resolve) => {
    child.once('spawn', () => resolve(null));
    child.once('error', resolve);
  });
  if (spawnError)
    throw new BrokerLaunchError(`cannot start java: ${spawnError.message}`, { cause: spawnError });
  child.unref();
  const record = {
    pid: child.pid,
    brokers: o.brokers,
    dataDir: o.dataDir,
    startedAt: new Date().toISOString(),
  };
  fs.writeFileSync(o.pidFile, `${JSON.stringify(record)}\n`);
  o.log(`broker pid ${child.pid} launched; waiting until it answers at ${o.brokers[0]} (log: ${stdoutLog})`);

  const serverLog = path.join(o.dataDir, 'server.log');
  const failure = async (reason) => {
    if (exit === null) await terminate(child.pid, 5_000, o.log).catch(() => {});
    fs.rmSync(o.pidFile, { force: true });
    return new BrokerLaunchError(
      [
        `Kafka broker ${reason}.`,
        `--- errors in ${serverLog} ---`,
        errorSummary(serverLog),
        `--- ${serverLog} (tail) ---`,
        tail(serverLog, 25),
        `--- ${stdoutLog} (tail) ---`,
        tail(stdoutLog, 15),
      ].join('\n'),
    );
  };
  const deadline = Date.now() + o.readyTimeoutMs;
  for (;;) {
    if (exit !== null)
      throw await failure(`exited before it was ready (code ${exit.code}, signal ${exit.signal})`);
    if ((await describeCluster(o, o.probeTimeoutMs)) && (await canCreateTopics(o, o.probeTimeoutMs * 2))) {
      break;
    }
    if (Date.now() > deadline) throw await failure(`did not become ready within ${o.readyTimeoutMs} ms`);
    await delay(o.pollIntervalMs);
  }
  const seconds = (Date.now() - started) / 1000;
  o.log(`broker ready at ${o.brokers.join(',')} in ${seconds.toFixed(1)} s (pid ${child.pid})`);
  return { pid: child.pid, logFile: serverLog, startupSeconds: seconds };
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Uses the broker answering at KAFKA_BROKERS (or options.brokers) or starts a local one there.
 * Options: brokers, cacheDir, dataDir, keepData, readyTimeoutMs, stopTimeoutMs, probeTimeoutMs, log.
 * `stop()` stops the broker only if this call started it.
 */
export async function ensureBroker(options = {}) {
  const o = resolveOptions(options);
  const result = await withLock(o, async () => {
    if (await describeCluster(o, o.probeTimeoutMs)) {
      const record = readPidRecord(o);
      o.log(
        `using the broker already answering at ${o.brokers.join(',')}${record ? ` (pid ${record.pid})` : ''}`,
      );
      return { startedHere: false, pid: record?.pid ?? null, logFile: null, startupSeconds: 0 };
    }
    const record = readPidRecord(o);
    // A broker of ours from before the broker was secured: it will never let the admin in. It is not
    // replaced behind the back of whoever else uses it.
    if (record && !/^authorizer\.class\.name=/m.test(readText(propertiesFileOf(o)) ?? ''))
      throw refusedByListener(o);
    if (record) {
      // Our broker is running but silent: its launcher died mid-start, or it hangs. Give it a moment, then replace it.
      o.log(`broker pid ${record.pid} is running but does not answer yet; waiting briefly`);
      if (await waitUntil(() => describeCluster(o, o.probeTimeoutMs), 15_000, o.pollIntervalMs)) {
        return { startedHere: false, pid: record.pid, logFile: null, startupSeconds: 0 };
      }
      o.log(`broker pid ${record.pid} still silent; restarting it`);
      await terminate(record.pid, o.stopTimeoutMs, o.log);
      fs.rmSync(o.pidFile, { force: true });
    } else if (await portAnswers(o, o.probeTimeoutMs)) {
      throw refusedByListener(o);
    }
    if (o.brokers.length > 1)
      o.log(`starting one broker at ${o.brokers[0]}; the other addresses are ignored`);
    return { startedHere: true, ...(await launch(o)) };
  });
  try {
    const access = await applyAccess(o, o);
    o.log(
      `topics and ${access.acls} ACLs in place for topic prefix "${o.topicPrefix}" and recorder group ${o.recorderGroup}`,
    );
  } catch (error) {
    if (result.startedHere) await stopBroker(options).catch(() => {});
    throw new BrokerLaunchError(`could not create the topics and ACLs: ${error.message}`, { cause: error });
  }
  return {
    brokers: o.brokers,
    ...result,
    stop: async () =>
      result.startedHere ? stopBroker(options) : { stopped: false, reason: 'not started here' },
  };
}

/**
 * Topics and ACLs for another topic prefix and recorder group on the broker at KAFKA_BROKERS (tests
 * and the benchmark run the apps under prefixes of their own). Options: brokers, cacheDir,
 * topicPrefix, recorderGroup, partitions.
 */
export async function grantAccess(options = {}) {
  const o = resolveOptions(options);
  return applyAccess(o, o);
}

/** Stops the broker this launcher started on the KAFKA_BROKERS port, if any. A broker it did not start is left alone. */
export async function stopBroker(options = {}) {
  const o = resolveOptions(options);
  return withLock(o, async () => {
    const record = readPidRecord(o);
    if (!record) return { stopped: false, reason: `no broker started by this launcher on port ${o.port}` };
    const started = Date.now();
    const how = await terminate(record.pid, o.stopTimeoutMs, o.log);
    fs.rmSync(o.pidFile, { force: true });
    o.log(`broker pid ${record.pid} ${how} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { stopped: true, pid: record.pid, how };
  });
}

/** Whether a broker answers at KAFKA_BROKERS and whether this launcher started it. */
export async function brokerStatus(options = {}) {
  const o = resolveOptions(options);
  const cluster = await describeCluster(o, o.probeTimeoutMs);
  const record = readPidRecord(o);
  return {
    brokers: o.brokers,
    credentialsFile: o.credentialsFile,
    answering: cluster !== null,
    clusterId: cluster?.clusterId ?? null,
    managedPid: record?.pid ?? null,
    logFile: record ? path.join(o.dataDir, 'server.log') : null,
  };
}

// ---------------------------------------------------------------------------------------------
// CLI

function parseFlags(flags) {
  const options = {};
  const unknown = [];
  for (let i = 0; i < flags.length; i += 1) {
    const flag = flags[i];
    if (flag === '--keep-data') options.keepData = true;
    else if ((flag === '--prefix' || flag === '--group') && i + 1 < flags.length) {
      options[flag === '--prefix' ? 'topicPrefix' : 'recorderGroup'] = flags[(i += 1)];
    } else unknown.push(flag);
  }
  return { options, unknown };
}

async function main(argv) {
  const [command, ...flags] = argv;
  const { options, unknown } = parseFlags(flags);
  if (unknown.length > 0 || !['start', 'ensure', 'stop', 'status', 'grant'].includes(command)) {
    process.stderr.write(
      'usage: node infra/kafka.mjs start|ensure|status|stop [--keep-data]\n' +
        '       node infra/kafka.mjs grant [--prefix <topic prefix>] [--group <recorder group>]\n' +
        '  start   use the broker at KAFKA_BROKERS (default 127.0.0.1:9092) or start one there; it keeps running\n' +
        '  ensure  same as start, printing only the bootstrap address on stdout\n' +
        '  status  exit 0 if a broker answers, 1 if not\n' +
        '  stop    stop the broker this launcher started (a broker it did not start is left alone)\n' +
        '  grant   create the topics and ACLs of another topic prefix and recorder group (tests, benchmark)\n' +
        '  --keep-data  keep topics from the previous run instead of a fresh data dir\n' +
        `Credentials: generated at first start into $THROUGHLINE_CACHE/${CREDENTIALS_FILE} (default ~/.cache/throughline).\n`,
    );
    return 2;
  }
  switch (command) {
    case 'start':
    case 'ensure': {
      const broker = await ensureBroker(options);
      if (command === 'ensure') process.stdout.write(`${broker.brokers.join(',')}\n`);
      return 0;
    }
    case 'stop': {
      const result = await stopBroker(options);
      if (!result.stopped) process.stderr.write(`[kafka] nothing stopped: ${result.reason}\n`);
      return 0;
    }
    case 'grant': {
      const access = await grantAccess(options);
      process.stderr.write(`[kafka] ${access.acls} ACLs for ${access.topics.join(', ')}\n`);
      return 0;
    }
    case 'status': {
      const status = await brokerStatus(options);
      process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      return status.answering ? 0 : 1;
    }
  }
  return 2;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`[kafka] ${error instanceof BrokerLaunchError ? error.message : error.stack}\n`);
      process.exit(1);
    },
  );
}
