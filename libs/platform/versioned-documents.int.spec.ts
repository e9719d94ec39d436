import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@throughline/testing';
import { ValidationError } from './errors';
import { createPool } from './postgres';
import { VersionedDocuments, type VersionedDocumentKind } from './versioned-documents';

/**
 * The versioned-document store the access policy and the outcome frameworks share, against a
 * real PostgreSQL: seeding once, numbering under the lock, refusing an invalid document, and an
 * instance picking up another's change.
 */

interface Note {
  readonly title: string;
  readonly items: readonly string[];
}

const KIND: VersionedDocumentKind<Note, { title: string; items: number }> = {
  table: 'note_versions',
  seedSetting: 'NOTE_FILE',
  parse(document, where = 'note') {
    const note = document as Partial<Note> | null;
    if (typeof note?.title !== 'string' || !Array.isArray(note.items))
      throw new ValidationError(`${where} is not a note`, [
        { path: `${where}.title`, message: 'a title and items', rule: 'note' },
      ]);
    return { title: note.title, items: note.items };
  },
  empty: { title: 'none', items: [] },
  summarise: (note) => ({ title: note.title, items: note.items.length }),
};

let database: TestDatabase;
let pool: Pool;
const seedFile = join(tmpdir(), `note-seed-${process.pid}.json`);
const by = { userId: 'int-test', reason: 'a test change' };

beforeAll(async () => {
  database = await createTestDatabase('tl_versioned_documents');
  pool = createPool(database.url);
  await pool.query(`CREATE TABLE note_versions (
    version bigint PRIMARY KEY, document jsonb NOT NULL, sha256 text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(), loaded_by text NOT NULL, organisation text, reason text NOT NULL)`);
  writeFileSync(seedFile, JSON.stringify({ title: 'seeded', items: ['a'] }));
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

describe('VersionedDocuments', () => {
  it('seeds an empty table once however many instances start together, then numbers changes without gaps', async () => {
    const instances = await Promise.all(
      [1, 2, 3].map(() => VersionedDocuments.open(pool, KIND, { seedFile, refreshMs: 100_000 })),
    );
    try {
      expect(instances.map((i) => i.current())).toEqual(
        [1, 2, 3].map(() => ({ version: 1, document: { title: 'seeded', items: ['a'] } })),
      );
      const views = await Promise.all(
        instances.map((instance, n) => instance.replace({ title: `change ${n}`, items: ['a', 'b'] }, by)),
      );
      expect(views.map((v) => v.version).sort()).toEqual([2, 3, 4]);
      const history = await instances[0].history();
      expect(history.map((v) => [v.version, v.loadedBy, v.items])).toEqual([
        [4, 'int-test', 2],
        [3, 'int-test', 2],
        [2, 'int-test', 2],
        [1, 'seed:' + seedFile.split('/').pop(), 1],
      ]);
      expect(history[3].reason).toBe('first start: seeded from NOTE_FILE');
      // Another instance sees the latest once it refreshes.
      const latest = views.find((v) => v.version === 4)!;
      expect((await instances[0].refresh()).version).toBe(4);
      expect(instances[0].current().document.title).toBe(latest.title);
    } finally {
      instances.forEach((instance) => instance.close());
    }
  });

  it('refuses an invalid document and changes nothing', async () => {
    const store = await VersionedDocuments.open(pool, KIND, { refreshMs: 100_000 });
    try {
      const before = store.current();
      await expect(store.replace({ items: 'no' }, by)).rejects.toBeInstanceOf(ValidationError);
      expect(await store.refresh()).toEqual(before);
      expect((await store.history()).length).toBe(before.version);
    } finally {
      store.close();
    }
  });

  it('refuses a table name that is not an identifier', async () => {
    await expect(VersionedDocuments.open(pool, { ...KIND, table: 'notes; DROP TABLE x' })).rejects.toThrow(
      /not a table name/,
    );
  });
});
