import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Partitioners, type Admin, type Producer } from 'kafkajs';
import { PostgresEventStore, type RecordedEvent } from '@throughline/event-store';
import type { Pool } from 'pg';
import {
  allTopics,
  createKafka,
  createPool,
  ensureTopics,
  loadConfig,
  topicNames,
  type Config,
} from '@throughline/platform';
import {
  grantKafkaAccess,
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

async function storedCount(pool: Pool): Promise<number> {
  const result = await pool.query<{ count: string }>('SELECT count(*) AS count FROM events');
  return Number(result.rows[0].count);
}

const KILLS = 2;
/**
 * Events waiting before the first recorder starts: enough that catching up takes it several
 * fetches and transactions per partition (about 1.5 s at bench speed), so a kill on its first
 * stored batch lands part-way, even with partitions recorded concurrently.
 */
const BACKLOG_EVENTS_PER_SUBJECT = 2_000;
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
  let pool: Pool;
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
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: db.url,
      KAFKA_TOPIC_PREFIX: `test-recorder-kill-${suffix}.`,
      RECORDER_GROUP_ID: `test-recorder-kill-${suffix}`,
      LOG_LEVEL: 'error',
    });
    const kafka = createKafka(config, 'test', { clientSuffix: 'recorder-kill-test' });
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, allTopics(topicNames(config.KAFKA_TOPIC_PREFIX)), config.KAFKA_PARTITIONS);
    await grantKafkaAccess(config); // the recorder's own principal on this test's topics
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    store = await PostgresEventStore.create({ connectionString: db.url });
    pool = createPool(db.url, { max: 1 });
  }, 180_000);

  afterAll(async () => {
    if (child) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await producer?.disconnect();
    await admin?.disconnect();
    await store?.close();
    await pool?.end();
    await db?.drop();
    rmSync(join(outDir, '..'), { recursive: true, force: true });
  });

  it('stores every event once, in order per subject, across two SIGKILLs while events flow', async () => {
    const socialCare = topicNames(config.KAFKA_TOPIC_PREFIX).agency['social-care'];
    const subjects = Array.from({ length: 10 }, () => freshRecordId('case'));
    const produced = new Map<string, string[]>(subjects.map((recordId) => [recordId, []]));
    let total = 0;
    /** `perSubject` events for every subject, in one send (each subject's in order). */
    const produceRound = async (perSubject = 1): Promise<void> => {
      const events = Array.from({ length: perSubject }, () =>
        subjects.map((recordId) => buildReferralReceived({ subject: { recordId } })),
      ).flat();
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
    for (let sent = 0; sent < BACKLOG_EVENTS_PER_SUBJECT; sent += 100) await produceRound(100);

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
        const before = await storedCount(pool);
        child = startRecorderProcess(config);
        // Kill while it is recording: once it has stored something new, before it has caught up.
        // A killed member keeps its partitions until its Kafka session times out (30 s by default).
        await waitFor(async () => (await storedCount(pool)) > before, {
          timeoutMs: 120_000,
          intervalMs: 10,
          message: `recorder process ${kill + 1} to store events`,
        });
        child.kill('SIGKILL');
        await exited(child);
        expect(child.signalCode).toBe('SIGKILL');
        kills.push(await storedCount(pool));
      }
    } finally {
      stopFeeding = true;
      await feeding;
    }

    child = startRecorderProcess(config);
    await waitFor(async () => (await storedCount(pool)) >= total, {
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
      // Each stream whole, in revision order (readStream pages at 1,000 events by default).
      const stream = await pool.query<{ event_id: string }>(
        'SELECT event_id FROM events WHERE stream_id = $1 ORDER BY revision',
        [`social-care-${recordId}`],
      );
      expect(stream.rows.map((row) => row.event_id)).toEqual(produced.get(recordId));
    }
    // The kills happened part-way: each one left events still to store.
    console.log(JSON.stringify({ total, storedAtKills: kills }));
    expect(kills.every((stored) => stored < total)).toBe(true);
  }, 300_000);
});
