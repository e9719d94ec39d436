import type { Pool, PoolClient } from 'pg';
import { createTestDatabase, type TestDatabase } from '@throughline/testing';
import { COPY_NULL, copyIn, copyJson, copyText, copyTextArray, createPool, releaseClient } from './index';

/** COPY text written by the helpers, read back by a real PostgreSQL: every value as it was. */
let database: TestDatabase;
let pool: Pool;
let client: PoolClient;

beforeAll(async () => {
  database = await createTestDatabase('tl_copy');
  pool = createPool(database.url, { max: 2 });
  await pool.query('CREATE TABLE copied (n int PRIMARY KEY, t text, j jsonb, a text[])');
  client = await pool.connect();
});

afterAll(async () => {
  client?.release();
  await pool?.end();
  await database?.drop();
});

const AWKWARD = [
  'plain',
  'tab\there',
  'new\nline and carriage\rreturn',
  'back\\slash \\N \\t',
  'quote " and {braces}, commas',
  'accents é, ß, 子, emoji 🙂',
  '',
  'NULL',
];

it('copies text, JSON and text arrays with the characters COPY treats specially, and NULL', async () => {
  const rows = AWKWARD.map((value, n) => ({
    n,
    t: value,
    j: { value, list: [value, 1] },
    a: [value, 'x', value],
  }));
  const lines = rows.map(
    (row) => `${row.n}\t${copyText(row.t)}\t${copyJson(JSON.stringify(row.j))}\t${copyTextArray(row.a)}\n`,
  );
  lines.push(`100\t${COPY_NULL}\t${COPY_NULL}\t${copyTextArray([])}\n`);
  // In two chunks, one of them bytes (as a prepared batch hands its rows over).
  await copyIn(client, 'COPY copied (n, t, j, a) FROM STDIN', [
    lines.slice(0, 3).join(''),
    Buffer.from(lines.slice(3).join(''), 'utf8'),
  ]);
  const back = await client.query('SELECT n, t, j, a FROM copied ORDER BY n');
  expect(back.rows).toEqual([...rows, { n: 100, t: null, j: null, a: [] }]);
});

it('marks the client broken when the copy fails half-way, and the error names the cause', async () => {
  const own = await pool.connect();
  const connections = pool.totalCount;
  try {
    await expect(
      copyIn(own, 'COPY copied (n, t) FROM STDIN', ['1\tduplicate of a copied key\n']),
    ).rejects.toThrow(/duplicate key value violates unique constraint/);
  } finally {
    releaseClient(own);
  }
  // Destroyed on release, never handed out again mid-protocol; the pool goes on with another.
  expect(pool.totalCount).toBe(connections - 1);
  await expect(pool.query('SELECT count(*)::int AS n FROM copied')).resolves.toMatchObject({
    rows: [{ n: 9 }],
  });
});
