import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { ConcurrencyError, RetriesExhaustedError, createPool, withTransaction } from '@throughline/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@throughline/testing';
import type { RecordedEvent } from './port';
import { PostgresEventStore } from './postgres-event-store';
import { migrateReadModelGenerations } from './read-model-generations';
import {
  CUSTOM_PLAN_MIN_EVENTS,
  CheckpointedSubscriptionRunner,
  checkpointTable,
  type CheckpointedHandler,
  type CheckpointedSubscriptionOptions,
  type SubscriptionObserver,
} from './subscription-runner';

/**
 * The checkpointed subscription runner on the real database, with a toy read model: a table of
 * the positions it saw, and a checkpoint table of its own counting them.
 */

let database: TestDatabase;
let store: PostgresEventStore;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase('tl_subscription_runner');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  pool = createPool(database.url);
  await pool.query(`
    CREATE TABLE runner_seen (name text NOT NULL, position bigint NOT NULL, PRIMARY KEY (name, position));
    CREATE TABLE runner_checkpoints (
      name text PRIMARY KEY, position bigint NOT NULL DEFAULT 0, seen_events bigint NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now())`);
});

const runners: Pick<CheckpointedSubscriptionRunner<number, unknown>, 'stop'>[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.stop()));
});
afterAll(async () => {
  await store?.close();
  await pool?.end();
  await database?.drop();
});

const checkpoints = checkpointTable<number>('runner_checkpoints', { seen_events: (seen) => seen });

async function append(count: number): Promise<bigint> {
  const [result] = await store.appendMany([
    {
      streamId: `runner-${randomUUID()}`,
      events: Array.from({ length: count }, (_, n) => ({
        eventId: randomUUID(),
        type: 'Ticked',
        data: { n },
      })),
    },
  ]);
  return result.positions[result.positions.length - 1];
}

/** The toy read model: one row per position seen; `fault` (when set) fails the batch after its writes. */
function toyModel(name: string, fault: { error?: unknown; calls: number } = { calls: 0 }) {
  const handler: CheckpointedHandler<number> = {
    async handleBatch(client: PoolClient, batch: readonly RecordedEvent[]) {
      fault.calls += 1;
      await client.query('INSERT INTO runner_seen (name, position) SELECT $1, unnest($2::bigint[])', [
        name,
        batch.map((event) => event.position.toString()),
      ]);
      if (fault.error !== undefined) throw fault.error;
      return batch.length;
    },
    async reset(client) {
      await client.query('DELETE FROM runner_seen WHERE name = $1', [name]);
    },
  };
  return { handler, fault };
}

interface Observed {
  readonly committed: { events: number; position: bigint; lastRecordedAt: Date | undefined }[];
  readonly failed: { error: unknown; willRetry: boolean }[];
}

function startRunner<P = undefined>(
  name: string,
  handler: CheckpointedHandler<number, P>,
  observed?: Observed,
  overrides: Partial<Pick<CheckpointedSubscriptionOptions<number>, 'pool' | 'statistics' | 'batchSize'>> = {},
) {
  const observer: SubscriptionObserver | undefined = observed && {
    batchCommitted: (info) => observed.committed.push(info),
    failed: (info) => observed.failed.push(info),
  };
  const errors: string[] = [];
  const warnings: string[] = [];
  const runner = new CheckpointedSubscriptionRunner({
    name,
    pool,
    store,
    checkpoints,
    handler,
    batchSize: 3,
    retryBackoffMs: 10,
    maxBackoffMs: 50,
    observer,
    logger: {
      log: () => undefined,
      warn: (message) => warnings.push(message),
      error: (message) => errors.push(message),
    },
    ...overrides,
  });
  runners.push(runner);
  return { runner, errors, warnings };
}

async function seen(name: string): Promise<bigint[]> {
  const result = await pool.query<{ position: string }>(
    'SELECT position FROM runner_seen WHERE name = $1 ORDER BY position',
    [name],
  );
  return result.rows.map((row) => BigInt(row.position));
}

it('catches up from its checkpoint in batches, each with the checkpoint, and tells the observer', async () => {
  const name = `catch-up-${randomUUID()}`;
  const before = await store.headPosition();
  const head = await append(7);
  const observed: Observed = { committed: [], failed: [] };
  const { runner } = startRunner(name, toyModel(name).handler, observed);
  await runner.start();
  await runner.waitForPosition(head);

  expect((await seen(name)).filter((position) => position > before)).toHaveLength(7);
  const status = await runner.status();
  expect(status).toMatchObject({ name, running: true, lag: Number((await store.headPosition()) - head) });
  expect(status.checkpoint).toBe(Number(head));
  expect(status.counters.seen_events).toBe(Number(head));
  expect(status.lastError).toBeUndefined();
  expect(observed.committed.reduce((sum, batch) => sum + batch.events, 0)).toBe(Number(head));
  expect(observed.committed.every((batch) => batch.events <= 3)).toBe(true);
  expect(observed.committed.at(-1)?.position).toBe(head);
  expect(observed.committed.at(-1)?.lastRecordedAt).toBeInstanceOf(Date);
  expect(observed.failed).toEqual([]);
});

it('starts from a checkpoint row already there (an upgraded database): nothing is replayed', async () => {
  const name = `upgraded-${randomUUID()}`;
  const upTo = await append(2);
  await pool.query('INSERT INTO runner_checkpoints (name, position, seen_events) VALUES ($1, $2, 5)', [
    name,
    upTo.toString(),
  ]);
  const next = await append(2);
  const { runner } = startRunner(name, toyModel(name).handler);
  await runner.start();
  await runner.waitForPosition(next);
  expect(await seen(name)).toEqual([upTo + 1n, upTo + 2n]);
  expect((await runner.status()).counters.seen_events).toBe(7);
});

it('keeps nothing of a failed batch, retries with backoff, and goes on once the fault is gone', async () => {
  const name = `retry-${randomUUID()}`;
  const head = await append(2);
  const { handler, fault } = toyModel(name, { error: new Error('injected fault'), calls: 0 });
  const observed: Observed = { committed: [], failed: [] };
  const { runner } = startRunner(name, handler, observed);
  await runner.start();
  await waitFor(() => fault.calls >= 3, { message: 'three attempts' });
  const failing = await runner.status();
  expect(failing.lastError).toBe('injected fault');
  expect(failing.checkpoint).toBe(0);
  expect(await seen(name)).toEqual([]);
  expect(observed.failed.length).toBeGreaterThanOrEqual(2);
  expect(observed.failed.every((failure) => failure.willRetry)).toBe(true);

  fault.error = undefined;
  await runner.waitForPosition(head);
  expect((await runner.status()).lastError).toBeUndefined();
  expect(await seen(name)).toHaveLength(Number(head));
});

it('stops loudly, for good, when the retry rule says stop; waiters are told at once', async () => {
  const name = `stop-${randomUUID()}`;
  const head = await append(1);
  const { handler, fault } = toyModel(name, { error: new RetriesExhaustedError('cannot go on'), calls: 0 });
  const observed: Observed = { committed: [], failed: [] };
  const { runner, errors } = startRunner(name, handler, observed);
  await runner.start();
  await expect(runner.waitForPosition(head, 20_000)).rejects.toThrow(/stopped: cannot go on/);
  expect(runner.isRunning()).toBe(false);
  expect(observed.failed.map((failure) => failure.willRetry)).toEqual([false]);
  expect(errors.some((message) => message.includes('STOPS'))).toBe(true);
  const calls = fault.calls;
  await new Promise((resolve) => setTimeout(resolve, 200)); // a stopped runner makes no attempt, however long
  expect(fault.calls).toBe(calls);
  expect((await runner.status()).lastError).toBe('cannot go on');

  // Fixed and started again, it goes on from its checkpoint.
  fault.error = undefined;
  await runner.start();
  await runner.waitForPosition(head);
  expect(runner.isRunning()).toBe(true);
});

it('rebuilds: empties the read model, resets the checkpoint and replays the store', async () => {
  const name = `rebuild-${randomUUID()}`;
  const head = await append(3);
  const { runner } = startRunner(name, toyModel(name).handler);
  await runner.start();
  await runner.waitForPosition(head);
  await pool.query('INSERT INTO runner_seen (name, position) VALUES ($1, -1)', [name]); // not from the store
  await runner.rebuild();
  await runner.waitForPosition(head);
  const positions = await seen(name);
  expect(positions[0]).toBe(1n);
  expect(positions).toHaveLength(Number(await store.headPosition()));
  expect((await runner.status()).counters.seen_events).toBe(positions.length);
});

it('two runners of one name never apply a batch twice: the checkpoint claim refuses the second', async () => {
  const name = `twins-${randomUUID()}`;
  const [first, second] = [
    startRunner(name, toyModel(name).handler),
    startRunner(name, toyModel(name).handler),
  ];
  await Promise.all([first.runner.start(), second.runner.start()]);
  const head = await append(10);
  await first.runner.waitForPosition(head);
  await second.runner.waitForPosition(head);
  const positions = await seen(name);
  expect(new Set(positions).size).toBe(positions.length); // the primary key would have refused a double anyway
  expect(positions).toHaveLength(Number(await store.headPosition()));
});

it("plans a large batch's statements for its own parameters, a live batch's once (a generic plan)", async () => {
  const name = `plans-${randomUUID()}`;
  const modes: { events: number; mode: string }[] = [];
  const handler: CheckpointedHandler<number> = {
    async handleBatch(client, batch) {
      const { rows } = await client.query<{ mode: string }>(
        "SELECT current_setting('plan_cache_mode') AS mode",
      );
      modes.push({ events: batch.length, mode: rows[0].mode });
      return batch.length;
    },
  };
  await append(CUSTOM_PLAN_MIN_EVENTS * 2);
  const { runner } = startRunner(name, handler, undefined, { batchSize: CUSTOM_PLAN_MIN_EVENTS * 4 });
  await runner.start();
  await runner.waitForPosition(await store.headPosition());
  await runner.waitForPosition(await append(1));

  expect(modes.some((batch) => batch.events >= CUSTOM_PLAN_MIN_EVENTS)).toBe(true);
  expect(modes.at(-1)).toEqual({ events: 1, mode: 'force_generic_plan' });
  for (const batch of modes)
    expect(batch.mode).toBe(
      batch.events >= CUSTOM_PLAN_MIN_EVENTS ? 'force_custom_plan' : 'force_generic_plan',
    );
  // Outside the batch's transaction the setting is the server's again.
  expect((await pool.query("SELECT current_setting('plan_cache_mode') AS mode")).rows[0].mode).toBe('auto');
});

it('prepares a batch while the one before is applied, and hands each batch what its own prepare made', async () => {
  const name = `prepare-${randomUUID()}`;
  await append(12);
  const tagOf = (batch: readonly RecordedEvent[]) => `${batch[0].position}+${batch.length}`;
  let prepares = 0;
  /** Batches prepared before the batch before them had committed. */
  const preparedEarly: string[] = [];
  const mismatched: string[] = [];
  const fault = { calls: 0 };
  const handler: CheckpointedHandler<number, string> = {
    async prepare(batch) {
      prepares += 1;
      if (runner.committedPosition() < batch[0].position - 1n) preparedEarly.push(tagOf(batch));
      return tagOf(batch);
    },
    async handleBatch(client, batch, prepared) {
      fault.calls += 1;
      if (prepared !== tagOf(batch)) mismatched.push(`${tagOf(batch)} got ${prepared}`);
      await client.query('SELECT pg_sleep(0.01)'); // long enough for the next batch to be read
      await client.query('INSERT INTO runner_seen (name, position) SELECT $1, unnest($2::bigint[])', [
        name,
        batch.map((event) => event.position.toString()),
      ]);
      if (fault.calls === 3) throw new Error('the third batch fails once');
      return batch.length;
    },
  };
  const observed: Observed = { committed: [], failed: [] };
  const { runner } = startRunner(name, handler, observed);
  await runner.start();
  const head = await store.headPosition();
  await runner.waitForPosition(head);

  expect(await seen(name)).toEqual(Array.from({ length: Number(head) }, (_, n) => BigInt(n + 1)));
  expect(mismatched).toEqual([]);
  expect(observed.failed).toHaveLength(1);
  // Read ahead and prepared while the batch before was applied; the batch retried after the failure prepared again.
  expect(preparedEarly.length).toBeGreaterThan(observed.committed.length / 2);
  expect(prepares).toBeGreaterThanOrEqual(observed.committed.length + 1);
});

describe("statistics of the handler's tables", () => {
  let appPool: Pool;
  beforeAll(async () => {
    // As the apps run it: the runner on the app role, the table the owner's, the ANALYZE through
    // the owner's function (read-models migration 002), which the app role may call.
    await migrateReadModelGenerations(pool, { appRole: new URL(database.appUrl).username });
    await pool.query('CREATE TABLE runner_counted (position bigint PRIMARY KEY)');
    await pool.query(
      `GRANT SELECT, INSERT ON runner_counted TO "${new URL(database.appUrl).username}"; GRANT SELECT, INSERT, UPDATE ON runner_checkpoints TO "${new URL(database.appUrl).username}"`,
    );
    appPool = createPool(database.appUrl);
  });
  afterAll(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop()));
    await appPool?.end();
  });

  const reltuples = async (table: string) =>
    Number(
      (
        await pool.query<{ n: number }>('SELECT reltuples AS n FROM pg_class WHERE oid = $1::regclass', [
          table,
        ])
      ).rows[0].n,
    );

  it("are refreshed as the model grows, by the apps' role, and not before it has grown enough", async () => {
    const head = await append(30);
    const name = `statistics-${randomUUID()}`;
    const handler: CheckpointedHandler<number> = {
      async handleBatch(client, batch) {
        await client.query('INSERT INTO runner_counted SELECT unnest($1::bigint[]) ON CONFLICT DO NOTHING', [
          batch.map((event) => event.position.toString()),
        ]);
        return batch.length;
      },
      tables: ['runner_counted'],
    };
    expect(await reltuples('runner_counted')).toBe(-1); // never analysed
    const { runner, warnings } = startRunner(name, handler, undefined, {
      pool: appPool,
      statistics: { minEvents: Number(head) + 1000, growth: 1.5 },
    });
    await runner.start();
    await runner.waitForPosition(head);
    expect(await reltuples('runner_counted')).toBe(-1); // not grown by minEvents yet
    await runner.stop();

    const eager = startRunner(`${name}-eager`, handler, undefined, {
      pool: appPool,
      statistics: { minEvents: 10, growth: 1.5 },
    });
    await eager.runner.start();
    await eager.runner.waitForPosition(head);
    // Refreshed at some checkpoint ≥ 10 after the last one, so it saw at least the first 10 rows.
    expect(await reltuples('runner_counted')).toBeGreaterThanOrEqual(10);
    expect([...warnings, ...eager.warnings]).toEqual([]);
  });

  it('a failed refresh is logged once and the batches go on', async () => {
    const head = await append(20);
    const name = `statistics-missing-${randomUUID()}`;
    const { runner, warnings } = startRunner(
      name,
      { ...toyModel(name).handler, tables: ['no_such_table'] },
      undefined,
      { statistics: { minEvents: 3, growth: 1 } },
    );
    await runner.start();
    await runner.waitForPosition(head);
    expect(await seen(name)).toHaveLength(Number(head));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/could not refresh the statistics.*no_such_table/);
  });
});

describe('checkpointTable: the claim moves the row in the batch transaction', () => {
  // As the runner does it: in one transaction, rolled back when the work throws.
  const inBatch = <T>(work: (client: PoolClient) => Promise<T>): Promise<T> => withTransaction(pool, work);

  it('moves from the expected position, refuses any other naming the one found, and a rollback undoes it', async () => {
    const name = `claims-${randomUUID()}`;
    expect(await checkpoints.open(pool, name)).toBe(0n);
    await inBatch(async (client) => {
      await checkpoints.claim(client, name, 0n, 5n);
      await checkpoints.count(client, name, 5);
    });
    expect(await checkpoints.read(pool, name)).toEqual({ position: 5n, counters: { seen_events: 5 } });

    const stale = inBatch((client) => checkpoints.claim(client, name, 0n, 9n));
    await expect(stale).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(stale).rejects.toThrow(/runner_checkpoints:claims-.*\b0\b.*\b5\b/);
    await expect(inBatch((client) => checkpoints.claim(client, `${name}-none`, 0n, 1n))).rejects.toThrow(
      /missing/,
    );

    const failing = inBatch(async (client) => {
      await checkpoints.claim(client, name, 5n, 8n);
      throw new Error('the handler failed');
    });
    await expect(failing).rejects.toThrow('the handler failed');
    expect((await checkpoints.read(pool, name)).position).toBe(5n);
  });

  it('holds the row to the commit: a second claim from the same position waits, then is refused', async () => {
    const name = `held-${randomUUID()}`;
    await checkpoints.open(pool, name);
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await checkpoints.claim(holder, name, 0n, 3n);
      let settled = false;
      const second = inBatch((client) => checkpoints.claim(client, name, 0n, 4n)).finally(() => {
        settled = true;
      });
      second.catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false); // waiting on the holder's row lock
      await holder.query('COMMIT');
      await expect(second).rejects.toBeInstanceOf(ConcurrencyError);
    } finally {
      holder.release();
    }
    expect((await checkpoints.read(pool, name)).position).toBe(3n);
  });

  it('adds counters only when a batch has any', async () => {
    const name = `counted-${randomUUID()}`;
    await checkpoints.open(pool, name);
    const before = (await pool.query('SELECT xmin FROM runner_checkpoints WHERE name = $1', [name])).rows[0];
    await inBatch((client) => checkpoints.count(client, name, 0));
    const after = (await pool.query('SELECT xmin FROM runner_checkpoints WHERE name = $1', [name])).rows[0];
    expect(after).toEqual(before); // no update: the row version is the same
    await inBatch((client) => checkpoints.count(client, name, 2));
    expect((await checkpoints.read(pool, name)).counters).toEqual({ seen_events: 2 });
  });
});
