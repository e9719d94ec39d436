import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Partitioners, type Admin, type Producer } from 'kafkajs';
import { PostgresEventStore, type RecordedEvent } from '@throughline/event-store';
import {
  allTopics,
  createKafka,
  ensureTopics,
  loadConfig,
  topicNames,
  type Config,
} from '@throughline/platform';
import {
  buildReferralReceived,
  createTestDatabase,
  freshRecordId,
  waitFor,
  type TestDatabase,
} from '@throughline/testing';

/**
 * The compiled recorder app run as a child process and killed with SIGKILL (no shutdown
 * hook, no offset commit) while events flow, then started again: every event produced is
 * stored once, in order per subject. The app is compiled into a private folder under the
 * repository's ignored tmp/, so a concurrent `npm run build` of dist/ does not interfere.
 */

/** Every event in the store, all pages of readAll. */
async function allStored(store: PostgresEventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readAll({ after: events.at(-1)?.position ?? 0n, maxCount: 1000 });
    events.push(...page);
    if (page.length < 1000) return events;
  }
}

const KILLS = 2;
const root = join(__dirname, '..', '..');
const outDir = join(root, 'tmp', `recorder-kill-${process.pid}-${randomBytes(3).toString('hex')}`, 'dist');

function startRecorderProcess(config: Config): ChildProcess {
  const child = spawn(
    process.execPath,
    ['-r', join(outDir, 'register.js'), join(outDir, 'apps', 'recorder', 'main.js')],
    {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: config.DATABASE_URL,
        KAFKA_TOPIC_PREFIX: config.KAFKA_TOPIC_PREFIX,
        RECORDER_GROUP_ID: config.RECORDER_GROUP_ID,
        RECORDER_PORT: '0',
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('recorder process killed mid-flow', () => {
  let db: TestDatabase;
  let config: Config;
  let admin: Admin;
  let producer: Producer;
  let store: PostgresEventStore;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    await promisify(execFile)(
      process.execPath,
      [
        join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        outDir,
      ],
      { cwd: root },
    ).catch((error: { stdout?: string }) => {
      // Type errors elsewhere in the tree do not stop tsc from emitting; a missing entry point does.
      if (!error.stdout) throw error;
    });
    mkdirSync(outDir, { recursive: true });
    writeFileSync(
      join(outDir, 'register.js'),
      `require('tsconfig-paths').register({ baseUrl: __dirname, paths: require(${JSON.stringify(
        join(root, 'scripts', 'paths.js'),
      )}).readPaths() });\n`,
    );

    db = await createTestDatabase('tl_recorder_kill');
    const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    config = loadConfig({
      DATABASE_URL: db.url,
      KAFKA_TOPIC_PREFIX: `test-recorder-kill-${suffix}.`,
      RECORDER_GROUP_ID: `test-recorder-kill-${suffix}`,
      LOG_LEVEL: 'error',
    });
    const kafka = createKafka(config, 'recorder-kill-test');
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, allTopics(topicNames(config.KAFKA_TOPIC_PREFIX)), config.KAFKA_PARTITIONS);
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    store = await PostgresEventStore.create({ connectionString: db.url });
  }, 180_000);

  afterAll(async () => {
    if (child) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await producer?.disconnect();
    await admin?.disconnect();
    await store?.close();
    await db?.drop();
    rmSync(join(outDir, '..'), { recursive: true, force: true });
  });

  it('stores every event once, in order per subject, across two SIGKILLs while events flow', async () => {
    const socialCare = topicNames(config.KAFKA_TOPIC_PREFIX).agency['social-care'];
    const subjects = Array.from({ length: 10 }, () => freshRecordId('case'));
    const produced = new Map<string, string[]>(subjects.map((recordId) => [recordId, []]));
    let total = 0;
    const produceRound = async (): Promise<void> => {
      const events = subjects.map((recordId) => buildReferralReceived({ subject: { recordId } }));
      await producer.send({
        topic: socialCare,
        acks: -1,
        messages: events.map((event) => ({
          key: event.subject.recordId,
          value: JSON.stringify(event),
          headers: { publisher: 'demo-publisher' },
        })),
      });
      for (const event of events) produced.get(event.subject.recordId)?.push(event.eventId);
      total += events.length;
    };
    for (let round = 0; round < 30; round += 1) await produceRound();

    let stopFeeding = false;
    const feeding = (async () => {
      // At most 200 more rounds, one every 300 ms: events keep flowing across both kills.
      for (let round = 0; !stopFeeding && round < 200; round += 1) {
        await produceRound();
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();

    const kills: number[] = [];
    try {
      for (let kill = 0; kill < KILLS; kill += 1) {
        const before = (await allStored(store)).length;
        child = startRecorderProcess(config);
        // Kill while it is recording: once it has stored something new, before it has caught up.
        // A killed member keeps its partitions until its Kafka session times out (30 s by default).
        await waitFor(async () => (await allStored(store)).length > before, {
          timeoutMs: 120_000,
          intervalMs: 50,
          message: `recorder process ${kill + 1} to store events`,
        });
        child.kill('SIGKILL');
        await exited(child);
        expect(child.signalCode).toBe('SIGKILL');
        kills.push((await allStored(store)).length);
      }
    } finally {
      stopFeeding = true;
      await feeding;
    }

    child = startRecorderProcess(config);
    await waitFor(async () => (await allStored(store)).length >= total, {
      timeoutMs: 120_000,
      intervalMs: 500,
      message: `all ${total} events stored`,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    child.kill('SIGTERM');
    await exited(child);
    child = undefined;

    const all = await allStored(store);
    expect(all).toHaveLength(total);
    expect(new Set(all.map((event) => event.eventId)).size).toBe(total);
    for (const recordId of subjects) {
      expect((await store.readStream(`social-care-${recordId}`)).map((event) => event.eventId)).toEqual(
        produced.get(recordId),
      );
    }
    // The kills happened part-way: each one left events still to store.
    expect(kills.every((stored) => stored < total)).toBe(true);
  }, 300_000);
});
