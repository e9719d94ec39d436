import type { Pool, PoolClient } from 'pg';
import { createTestDatabase, type TestDatabase } from '@throughline/testing';
import { PreparedStatement, createPool } from './index';

/** Prepared statements on a real PostgreSQL: parsed once per connection, following the search_path. */
let database: TestDatabase;
let pool: Pool;
let client: PoolClient;

beforeAll(async () => {
  database = await createTestDatabase('tl_prepared');
  pool = createPool(database.url, { max: 2 });
  await pool.query(`
    CREATE SCHEMA gen_a; CREATE SCHEMA gen_b;
    CREATE TABLE gen_a.counted (n int NOT NULL); INSERT INTO gen_a.counted VALUES (1), (2);
    CREATE TABLE gen_b.counted (n int NOT NULL); INSERT INTO gen_b.counted VALUES (10), (20), (30);
    CREATE TABLE public.altered (n int NOT NULL); INSERT INTO public.altered VALUES (7)`);
  client = await pool.connect();
});

afterAll(async () => {
  client?.release();
  await pool?.end();
  await database?.drop();
});

const preparedOn = async (db: PoolClient) =>
  (await db.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements'))
    .rows;

it('is parsed once per connection under its name, then only bound and run', async () => {
  const statement = new PreparedStatement<{ total: string }>(
    'sum-of',
    'SELECT sum(n) AS total FROM gen_a.counted WHERE n >= $1',
  );
  const totals = [];
  for (const from of [0, 2, 3]) totals.push((await statement.run(client, [from])).rows[0].total);
  expect(totals).toEqual(['3', '2', null]);
  const prepared = (await preparedOn(client)).filter((row) => row.name === statement.name);
  expect(prepared).toEqual([{ name: statement.name, statement: statement.text }]);
  // Through the pool too: each connection prepares it on its first run.
  expect((await statement.run(pool, [1])).rows[0].total).toBe('3');
});

it("follows the connection's search_path: the same statement reads the generation put first", async () => {
  const statement = new PreparedStatement<{ n: number }>('counted', 'SELECT n FROM counted ORDER BY n');
  await client.query('SET search_path = gen_a, public');
  expect((await statement.run(client, [])).rows.map((row) => row.n)).toEqual([1, 2]);
  await client.query('SET search_path = gen_b, public');
  expect((await statement.run(client, [])).rows.map((row) => row.n)).toEqual([10, 20, 30]);
  await client.query('SET search_path = public');
});

it('takes a new name when a table changed its columns under it, so the next run parses it afresh', async () => {
  const statement = new PreparedStatement<{ n: unknown }>('altered', 'SELECT n FROM altered');
  expect((await statement.run(client, [])).rows).toEqual([{ n: 7 }]);
  const before = statement.name;
  await pool.query('ALTER TABLE altered ALTER COLUMN n TYPE text');
  await expect(statement.run(client, [])).rejects.toMatchObject({
    code: '0A000',
    message: expect.stringContaining('cached plan must not change result type'),
  });
  expect(statement.name).not.toBe(before);
  expect((await statement.run(client, [])).rows).toEqual([{ n: '7' }]);
});

it('names a statement by its label and its text, and refuses a label that is not a plain word', () => {
  const a = new PreparedStatement('same-label', 'SELECT 1');
  const b = new PreparedStatement('same-label', 'SELECT 2');
  expect(a.name).toMatch(/^same-label-[0-9a-f]{12}$/);
  expect(a.name).not.toBe(b.name);
  expect(new PreparedStatement('same-label', 'SELECT 1').name).toBe(a.name);
  expect(() => new PreparedStatement('Bad label; DROP', 'SELECT 1')).toThrow('must be a short plain word');
});
