import type { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@throughline/testing';
import { createPool, withTransaction } from './index';

/** Transaction settings on a real PostgreSQL: in force inside the transaction, gone after it. */
let database: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase('tl_tx_settings');
  // One connection: the query after the transaction runs on the connection it used.
  pool = createPool(database.appUrl, { max: 1 });
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

const setting = async (client: Pick<Pool, 'query'>, name: string) =>
  (await client.query<{ value: string }>('SELECT current_setting($1) AS value', [name])).rows[0].value;

it('holds the settings for the transaction only', async () => {
  const before = await setting(pool, 'random_page_cost');
  expect(before).not.toBe('1.1');
  const inside = await withTransaction(
    pool,
    async (client) => [await setting(client, 'jit'), await setting(client, 'random_page_cost')],
    { jit: 'off', random_page_cost: '1.1' },
  );
  expect(inside).toEqual(['off', '1.1']);
  expect(await setting(pool, 'random_page_cost')).toBe(before);
});

it('rolls back as before when the work fails, and the connection stays usable', async () => {
  await pool.query('CREATE TEMP TABLE IF NOT EXISTS kept (n int)');
  await expect(
    withTransaction(
      pool,
      async (client) => {
        await client.query('INSERT INTO kept VALUES (1)');
        throw new Error('the work failed');
      },
      { jit: 'off' },
    ),
  ).rejects.toThrow('the work failed');
  expect((await pool.query('SELECT count(*)::int AS n FROM kept')).rows[0].n).toBe(0);
  expect(await setting(pool, 'jit')).not.toBe('off');
});
