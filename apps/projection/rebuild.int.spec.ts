import { PassThrough } from 'node:stream';
import type { Pool } from 'pg';
import { PostgresEventStore, storageParameters } from '@throughline/event-store';
import { createPool, loadConfig } from '@throughline/platform';
import {
  createTestDatabase,
  indexDefinitions,
  recordReferralsOfNewChildren,
  startTestAccess,
  type TestAccess,
  type TestDatabase,
} from '@throughline/testing';
import { childKeyOf } from '@throughline/timeline';
import { createProjectionApp } from './app';
import { projectionCommand } from './projection-command';

// Decision 023 end to end: `npm run projection -- rebuild` against a running projection app, whose
// HTTP reads and live runners follow the switch.
let database: TestDatabase;
let store: PostgresEventStore;
let access: TestAccess;
/** The owner's connection, for what the app's role may not read (the generations' schemas, pg_indexes' rows). */
let owner: Pool;

beforeAll(async () => {
  access = await startTestAccess();
  database = await createTestDatabase('tl_rebuild_cli');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  owner = createPool(database.ownerUrl, { max: 1 });
});

afterAll(async () => {
  await owner?.end();
  await store?.close();
  await database?.drop();
  await access?.stop();
});

const env = (): NodeJS.ProcessEnv => ({
  ...access.env,
  THROUGHLINE_MODE: 'development',
  // Two roles, as deployed: the app's rows-only role and the owner that builds the generations.
  DATABASE_URL: database.appUrl,
  DATABASE_OWNER_URL: database.ownerUrl,
  PROJECTION_PORT: '0',
  LOG_LEVEL: 'error',
});

const referrals = (count: number): Promise<string[]> =>
  recordReferralsOfNewChildren(store, count, { organisation: '991' });

/** Runs the command as `npm run projection -- …` would, with what it wrote to stdout. */
async function command(...argv: string[]): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await projectionCommand(argv, { env: env(), stdout, stderr: new PassThrough() });
  return { code, out: Buffer.concat(chunks).toString('utf8') };
}

/** The lines a rebuild printed for the indexes it built on `table` after catching up (decisions 039, 040). */
const indexLines = (out: string, model: string, table: string): string[] =>
  out.split('\n').filter((line) => line.startsWith(`${model}: index on ${table} USING`));

it('rebuilds the timeline and the analysis model while the app serves, and the app follows the switch', async () => {
  const before = await referrals(40);
  const projection = await createProjectionApp(loadConfig(env()), { store });
  try {
    await projection.caughtUp();
    const headers = await access.headers('demo-social-worker', 'safeguarding');
    const entriesOf = async (stream: string): Promise<string[]> => {
      const response = await fetch(`${projection.url}/v1/children/${childKeyOf(stream)}/timeline`, {
        headers,
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { entries: { type: string }[] }).entries.map((entry) => entry.type);
    };
    expect(await entriesOf(before[0])).toEqual(['social-care.referral.received']);

    // The timeline's entries fill without their two read indexes (by record, by decision) and get them before the switch.
    const entryIndexes = (schema: string): Promise<string[]> =>
      indexDefinitions(owner, schema, 'timeline_entries');
    const liveEntryIndexes = await entryIndexes('public');
    expect(liveEntryIndexes).toHaveLength(3);
    const timeline = await command('rebuild', 'timeline', '--grace-seconds', '0');
    expect(timeline.code).toBe(0);
    expect(timeline.out).toContain('timeline: building rm_timeline_2 beside the live public');
    const entriesBuilt = indexLines(timeline.out, 'timeline', 'timeline_entries');
    expect(entriesBuilt).toHaveLength(2);
    expect(timeline.out.indexOf(entriesBuilt[1])).toBeLessThan(
      timeline.out.indexOf('timeline: live is rm_timeline_2 (generation 2)'),
    );
    expect(timeline.out).toContain('timeline: dropped public');
    expect(await entryIndexes('rm_timeline_2')).toEqual(liveEntryIndexes);
    // The record tables rewritten at nearly every event keep room for the next version (decisions 041, 042).
    expect(await storageParameters(owner, 'rm_timeline_2', 'subject_records')).toEqual(['fillfactor=70']);
    // The analysis model's facts fill without the measures' indexes and get them before the switch (decision 039).
    const factIndexes = (schema: string): Promise<string[]> =>
      indexDefinitions(owner, schema, 'analysis_facts');
    const liveFactIndexes = await factIndexes('public');
    expect(liveFactIndexes).toHaveLength(7);
    const analysis = await command('rebuild', 'analysis', '--grace-seconds', '0');
    expect(analysis.code).toBe(0);
    const built = indexLines(analysis.out, 'analysis', 'analysis_facts');
    expect(built).toHaveLength(5);
    expect(analysis.out.indexOf(built[4])).toBeLessThan(
      analysis.out.indexOf('analysis: live is rm_analysis_2'),
    );
    expect(await factIndexes('rm_analysis_2')).toEqual(liveFactIndexes);
    expect(await storageParameters(owner, 'rm_analysis_2', 'analysis_records')).toEqual(['fillfactor=70']);

    // The app's runners carry on in the new generations: later events reach the API once each.
    const after = await referrals(10);
    await projection.caughtUp();
    expect(await entriesOf(before[0])).toEqual(['social-care.referral.received']);
    expect(await entriesOf(after[9])).toEqual(['social-care.referral.received']);
    const head = Number(await store.headPosition());
    expect(await projection.projector.status()).toMatchObject({ checkpoint: head, lag: 0 });

    const status = await command('status');
    expect(status.out).toContain(
      `timeline  live rm_timeline_2 (generation 2): checkpoint ${head} of head ${head}`,
    );
    expect(status.out).toContain(
      `analysis  live rm_analysis_2 (generation 2): checkpoint ${head} of head ${head}`,
    );
    const { rows } = await owner.query<{ entries: string; records: string }>(
      `SELECT (SELECT count(*) FROM rm_timeline_2.timeline_entries) AS entries,
              (SELECT count(*) FROM rm_analysis_2.analysis_records) AS records`,
    );
    expect(rows[0]).toEqual({ entries: '50', records: '50' });
  } finally {
    await projection.close();
  }

  // A restart migrates with the timeline's tables gone from public (grants.sql reaches the live
  // generation) and serves from the live generations.
  const restarted = await createProjectionApp(loadConfig(env()), { store });
  try {
    await restarted.caughtUp();
    const headers = await access.headers('demo-social-worker', 'safeguarding');
    const response = await fetch(`${restarted.url}/v1/children/${childKeyOf(before[1])}/timeline`, {
      headers,
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { entries: unknown[] }).entries).toHaveLength(1);
  } finally {
    await restarted.close();
  }
});
