import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createPool } from '@throughline/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@throughline/testing';
import { describeEventStoreContract } from './event-store.contract';
import { PostgresEventStore, eventStoreMigrationsDirectory } from './postgres-event-store';
import type { RecordedEvent } from './port';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('tl_event_store');
});
afterAll(async () => {
  await database?.drop();
});

describeEventStoreContract('PostgresEventStore', async () => {
  const store = await PostgresEventStore.create({ connectionString: database.url });
  return { store, cleanup: () => store.close() };
});

describe('PostgresEventStore (PostgreSQL specifics)', () => {
  let store: PostgresEventStore;
  let admin: Client;

  beforeAll(async () => {
    store = await PostgresEventStore.create({ connectionString: database.url });
    admin = new Client({ connectionString: database.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await store?.close();
  });

  const event = () => ({ eventId: randomUUID(), type: 'ThingHappened', data: { n: 1 } });

  it('finds its migrations folder', () => {
    const fromSource = eventStoreMigrationsDirectory();
    expect(existsSync(join(fromSource, '001_event_store.sql'))).toBe(true);
  });

  it('migrates once, however many stores start on the database', async () => {
    const again = await PostgresEventStore.create({ connectionString: database.url });
    await again.close();
    const applied = await admin.query("SELECT version FROM schema_migrations WHERE context = 'event-store'");
    expect(applied.rows).toEqual([{ version: 1 }]);
  });

  it.each([
    ['UPDATE', "UPDATE events SET type = 'Rewritten'"],
    ['DELETE', 'DELETE FROM events'],
    ['TRUNCATE', 'TRUNCATE events'],
  ])('keeps events append-only: %s is refused by the database', async (operation, sql) => {
    await store.append(`guard-${randomUUID()}`, [event()]);
    await expect(admin.query(sql)).rejects.toThrow(`events is append-only: ${operation} is not allowed`);
  });

  it('leaves a pool it was given open on close', async () => {
    const pool = createPool(database.url, { max: 2 });
    const borrowed = await PostgresEventStore.create({ connectionString: database.url, pool });
    await borrowed.close();
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await pool.end();
  });

  it('a subscription relistens after its LISTEN connection drops', async () => {
    // A long idle poll: only a working NOTIFY can deliver within the wait below.
    const channel = `tl_relisten_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
    const quiet = await PostgresEventStore.create({
      connectionString: database.url,
      notifyChannel: channel,
      idlePollMs: 60000,
    });
    const listeners = async () =>
      (
        await admin.query<{ pid: number }>(
          'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = $1',
          [`LISTEN ${channel}`],
        )
      ).rows.map((row) => row.pid);
    const seen: RecordedEvent[] = [];
    const subscription = quiet.subscribeToAll(async (batch) => void seen.push(...batch), {
      after: await quiet.headPosition(),
    });
    try {
      await waitFor(async () => (await listeners()).length === 1, { message: 'the LISTEN connection' });
      const [firstListener] = await listeners();
      await quiet.append(`relisten-${randomUUID()}`, [event()]);
      await waitFor(() => seen.length === 1, { timeoutMs: 10000, message: 'delivery by NOTIFY' });

      await admin.query('SELECT pg_terminate_backend($1)', [firstListener]);
      await waitFor(async () => (await listeners()).some((pid) => pid !== firstListener), {
        timeoutMs: 10000,
        message: 'a new LISTEN connection',
      });
      await quiet.append(`relisten-${randomUUID()}`, [event()]);
      await waitFor(() => seen.length === 2, { timeoutMs: 10000, message: 'delivery after relisten' });
    } finally {
      await subscription.stop();
      await quiet.close();
    }
    await subscription.finished;
    expect(await listeners()).toEqual([]);
  });

  it('close() stops the subscriptions it started', async () => {
    const closing = await PostgresEventStore.create({ connectionString: database.url });
    const subscription = closing.subscribeToAll(async () => undefined, {
      after: await closing.headPosition(),
    });
    await closing.close();
    await expect(subscription.finished).resolves.toBeUndefined();
  });
});
