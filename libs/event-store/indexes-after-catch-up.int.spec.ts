import type { Pool } from 'pg';
import { createPool, migrateAsOwner, roleOf } from '@throughline/platform';
import { createTestDatabase, indexDefinitions, type TestDatabase } from '@throughline/testing';
import {
  beginGeneration,
  completeGeneration,
  migrateReadModelGenerations,
  storageParameters,
  switchGeneration,
  type IndexBuilt,
  type RebuildableReadModel,
} from './read-model-generations';

// Decision 039: a generation being built goes without the indexes only reads use, and gets each
// of them, as the live generation has it, before it switches.
const MODEL: RebuildableReadModel = {
  name: 'facts',
  tables: ['facts', 'facts_checkpoints'],
  checkpoint: { table: 'facts_checkpoints', row: 'facts' },
  indexesAfterCatchUp: [{ table: 'facts', runnerUses: ['record_ref'] }],
};

let database: TestDatabase;
let owner: Pool;

beforeAll(async () => {
  database = await createTestDatabase('es_late_indexes');
  await migrateAsOwner({ app: database.appUrl, owner: database.ownerUrl }, async (pool, grants) => {
    await migrateReadModelGenerations(pool, grants);
  });
  owner = createPool(database.ownerUrl, { max: 2 });
  await owner.query(
    `CREATE TABLE facts (
       position bigint PRIMARY KEY,
       event_id text NOT NULL UNIQUE,
       record_ref text NOT NULL,
       pseudonym text NOT NULL,
       event_type text NOT NULL,
       on_day date,
       code text,
       CONSTRAINT facts_day_after CHECK (on_day > '2000-01-01')
     ) WITH (fillfactor = 70, autovacuum_enabled = off);
     CREATE INDEX facts_record ON facts (record_ref);
     CREATE INDEX facts_child ON facts (pseudonym);
     CREATE INDEX facts_child_type_day ON facts (pseudonym, event_type, on_day);
     CREATE INDEX facts_type_code ON facts (event_type, code) INCLUDE (pseudonym) WHERE code IS NOT NULL;
     CREATE TABLE facts_checkpoints (name text PRIMARY KEY, position bigint NOT NULL);`,
  );
});

afterAll(async () => {
  await owner?.end();
  await database?.drop();
});

const definitions = (schema: string): Promise<string[]> => indexDefinitions(owner, schema, 'facts');

it('fills a generation without the query-only indexes, then builds each of them before the switch', async () => {
  const live = await definitions('public');
  expect(live).toHaveLength(6);

  await beginGeneration(owner, MODEL, roleOf(database.appUrl));
  // Kept: the primary key, the unique constraint, the index the runner looks records up by.
  expect(await definitions('rm_facts_2')).toEqual([
    ' USING btree ("position")',
    ' USING btree (event_id)',
    ' USING btree (record_ref)',
  ]);
  // Its storage parameters too, which LIKE does not copy (decision 041).
  expect(await storageParameters(owner, 'rm_facts_2', 'facts')).toEqual([
    'fillfactor=70',
    'autovacuum_enabled=off',
  ]);
  // The constraints came over whole: a bad row is refused while the generation fills.
  await expect(
    owner.query(
      `INSERT INTO rm_facts_2.facts (position, event_id, record_ref, pseudonym, event_type, on_day)
       VALUES (1, 'e1', 'r1', 'p1', 't', '1999-12-31')`,
    ),
  ).rejects.toMatchObject({ code: '23514' });
  await owner.query(
    `INSERT INTO rm_facts_2.facts (position, event_id, record_ref, pseudonym, event_type, on_day, code)
     SELECT n, 'e' || n, 'r' || (n % 50), 'p' || (n % 40), 't' || (n % 3), DATE '2024-01-01' + n % 300,
            CASE WHEN n % 2 = 0 THEN 'c' || (n % 7) END
       FROM generate_series(1, 2000) AS n`,
  );

  // No switch to a generation without them: the reads would scan whole tables.
  await expect(switchGeneration(owner, MODEL)).rejects.toThrow(
    'read model facts: rm_facts_2.facts lacks 3 of the live generation',
  );
  const built: IndexBuilt[] = [];
  await completeGeneration(owner, MODEL, (index) => built.push(index));
  expect(built.map((index) => index.definition).sort()).toEqual([
    ' USING btree (event_type, code) INCLUDE (pseudonym) WHERE (code IS NOT NULL)',
    ' USING btree (pseudonym)',
    ' USING btree (pseudonym, event_type, on_day)',
  ]);
  for (const index of built) {
    expect(index.table).toBe('facts');
    expect(index.ms).toBeGreaterThan(0);
  }
  expect(await definitions('rm_facts_2')).toEqual(live);
  // Analysed with them: the planner knows the rows before the first read.
  const { rows } = await owner.query<{ reltuples: number }>(
    `SELECT reltuples FROM pg_class WHERE oid = 'rm_facts_2.facts'::regclass`,
  );
  expect(rows[0].reltuples).toBe(2000);

  // Again (a build stopped after its indexes, then resumed): nothing missing, nothing built.
  expect(await completeGeneration(owner, MODEL)).toEqual([]);
  // Resumed before them: beginGeneration hands back the generation as it is.
  expect(await beginGeneration(owner, MODEL, roleOf(database.appUrl))).toMatchObject({
    buildingSchema: 'rm_facts_2',
  });
  expect(await definitions('rm_facts_2')).toEqual(live);

  await switchGeneration(owner, MODEL);
  await expect(completeGeneration(owner, MODEL)).rejects.toThrow(
    'read model facts: no generation is being built',
  );
});
